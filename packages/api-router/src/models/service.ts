import { readFile } from "node:fs/promises";
import path from "node:path";
import { isStoredVersion, listVersions, type ArtifactMetadata } from "@reco/ml";
import type { TrpcServices } from "../context.ts";

/** A card larger than this is cut: it is generated from metadata and should be a few KB. */
const MAX_CARD_BYTES = 256 * 1024;

export interface RegistryEntry {
  /** metadata.json, checked against the registry's schema; null when unreadable */
  metadata: ArtifactMetadata | null;
  /** MODEL_CARD.md as written at publish time; null when missing */
  modelCard: string | null;
  /** why metadata or card could not be read (the version row still answers) */
  problems: string[];
}

/**
 * Reads a version's metadata and model card from the registry directory its row points at
 * (`<registry>/<name>/<version>`), through the registry's own reader; a version kept in object
 * storage is read from the api's verified cache (fetched there first when needed). A missing or
 * damaged artifact is reported, not thrown: the row's figures are still worth showing.
 */
export async function readRegistryEntry(
  row: { artifactPath: string; name: string; version: string },
  artifacts?: TrpcServices["artifacts"],
): Promise<RegistryEntry> {
  const { name, version } = row;
  let artifactPath = row.artifactPath;
  if (isStoredVersion(artifactPath)) {
    if (!artifacts)
      return {
        metadata: null,
        modelCard: null,
        problems: [
          `${artifactPath} is in object storage, and this server has no S3_ENDPOINT to read it from`,
        ],
      };
    try {
      artifactPath = (await artifacts.materialize(row)).artifactPath;
    } catch (error) {
      return {
        metadata: null,
        modelCard: null,
        problems: [`${artifactPath}: ${(error as Error).message}`],
      };
    }
  }
  const problems: string[] = [];
  const registryDir = path.dirname(path.dirname(artifactPath));
  const listing = (await listVersions(registryDir, name)).find(
    (entry) => entry.version === version && path.resolve(entry.dir) === path.resolve(artifactPath),
  );
  if (!listing) problems.push(`no registry version at ${artifactPath}`);
  else if (listing.problem) problems.push(listing.problem);
  let modelCard: string | null = null;
  if (listing) {
    try {
      const bytes = await readFile(path.join(artifactPath, "MODEL_CARD.md"));
      modelCard = bytes.subarray(0, MAX_CARD_BYTES).toString("utf8");
      if (bytes.byteLength > MAX_CARD_BYTES)
        problems.push(`MODEL_CARD.md is ${bytes.byteLength} bytes; showing the first 256 KiB`);
    } catch {
      problems.push(`MODEL_CARD.md is missing or unreadable in ${artifactPath}`);
    }
  }
  return { metadata: listing?.metadata ?? null, modelCard, problems };
}
