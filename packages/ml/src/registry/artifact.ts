/**
 * Reading the model registry: every file of a version is checked against the sha256 recorded in
 * metadata.json before anything uses it; a mismatch is ArtifactCorrupt, never a silent load.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type { Csr } from "../data/csr.ts";
import type { IdMaps } from "../params.ts";
import { ArtifactCorrupt, ModelVersionMissing } from "./errors.ts";
import { sha256 } from "./files.ts";
import { decodeHistory } from "./history-file.ts";
import { HISTORY_FILE, ID_MAPS_FILE, MODEL_FILE, exists, versionDir } from "./layout.ts";
import { type ArtifactMetadata, artifactMetadataSchema } from "./metadata.ts";

export interface LoadedArtifact {
  dir: string;
  metadata: ArtifactMetadata;
  modelBytes: Uint8Array;
  idMaps: IdMaps;
  trainHistory?: Csr;
}

async function readChecked(
  dir: string,
  file: string,
  entry: { sha256: string; bytes: number },
): Promise<Uint8Array> {
  const bytes = await readFile(path.join(dir, file)).catch(() => {
    throw new ArtifactCorrupt(dir, `${file} is missing or unreadable`);
  });
  if (bytes.byteLength !== entry.bytes) {
    throw new ArtifactCorrupt(
      dir,
      `${file} has ${bytes.byteLength} bytes, metadata says ${entry.bytes}`,
    );
  }
  const actual = sha256(bytes);
  if (actual !== entry.sha256) {
    throw new ArtifactCorrupt(dir, `${file} sha256 ${actual} ≠ recorded ${entry.sha256}`);
  }
  return bytes;
}

export async function readMetadata(dir: string): Promise<ArtifactMetadata> {
  const text = await readFile(path.join(dir, "metadata.json"), "utf8").catch(() => {
    throw new ArtifactCorrupt(dir, "metadata.json is missing or unreadable");
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ArtifactCorrupt(dir, "metadata.json is not valid JSON");
  }
  const parsed = artifactMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ArtifactCorrupt(
      dir,
      `metadata.json ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Reads a version and verifies every file against its recorded sha256 before anything uses it. */
export async function loadArtifact(dir: string): Promise<LoadedArtifact> {
  const metadata = await readMetadata(dir);
  for (const required of [MODEL_FILE, ID_MAPS_FILE]) {
    if (!metadata.files[required])
      throw new ArtifactCorrupt(dir, `metadata.json lists no checksum for ${required}`);
  }
  const read = (file: string) => readChecked(dir, file, metadata.files[file]!);
  const modelBytes = await read(MODEL_FILE);
  const idMaps = JSON.parse(new TextDecoder().decode(await read(ID_MAPS_FILE))) as IdMaps;
  if (
    idMaps.items?.length !== metadata.shape.nItems ||
    idMaps.users?.length !== metadata.shape.nUsers
  ) {
    throw new ArtifactCorrupt(dir, "id-maps.json sizes disagree with metadata.shape");
  }
  let trainHistory: Csr | undefined;
  if (metadata.files[HISTORY_FILE]) {
    try {
      trainHistory = decodeHistory(await read(HISTORY_FILE));
    } catch (error) {
      if (error instanceof ArtifactCorrupt) throw error;
      throw new ArtifactCorrupt(dir, `${HISTORY_FILE}: ${(error as Error).message}`);
    }
  }
  return { dir, metadata, modelBytes, idMaps, trainHistory };
}

export async function openVersion(
  registryDir: string,
  name: string,
  version: string,
): Promise<LoadedArtifact> {
  const dir = versionDir(registryDir, name, version);
  if (!(await exists(dir))) throw new ModelVersionMissing(name, version);
  return loadArtifact(dir);
}

export interface VersionListing {
  name: string;
  version: string;
  dir: string;
  /** undefined when metadata.json cannot be read (reported, not fatal for a listing) */
  metadata?: ArtifactMetadata;
  problem?: string;
}

/** Every published version (temp directories of unfinished publishes are not versions). */
export async function listVersions(registryDir: string, name?: string): Promise<VersionListing[]> {
  const names = name ? [name] : await readdir(registryDir).catch(() => [] as string[]);
  const out: VersionListing[] = [];
  for (const n of names.filter((x) => !x.startsWith(".")).sort()) {
    const versions = await readdir(path.join(registryDir, n)).catch(() => [] as string[]);
    for (const v of versions.filter((x) => !x.startsWith(".")).sort(byVersion)) {
      const dir = path.join(registryDir, n, v);
      try {
        out.push({ name: n, version: v, dir, metadata: await readMetadata(dir) });
      } catch (error) {
        out.push({ name: n, version: v, dir, problem: (error as Error).message });
      }
    }
  }
  return out;
}

function byVersion(a: string, b: string): number {
  const na = /^v(\d+)$/.exec(a)?.[1];
  const nb = /^v(\d+)$/.exec(b)?.[1];
  return na && nb ? Number(na) - Number(nb) : a.localeCompare(b);
}
