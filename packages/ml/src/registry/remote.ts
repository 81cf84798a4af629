/**
 * Registry versions in object storage (S3 or any ObjectStorage): a published local version is
 * uploaded under registry/<name>/<version>/, every file first and metadata.json (the manifest, with
 * every other file's sha256) last, and only then may a version row point at it. The row's
 * artifactPath pins the manifest's own sha256 (`object:registry/m/v3#sha256=…`), so a replaced or
 * corrupted object anywhere in the version is refused on fetch, never served. A crash before the
 * row is written leaves objects no row points at; a crash mid-upload leaves no manifest.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ObjectStorage } from "@reco/storage";
import { ArtifactCorrupt, ModelVersionMissing, VersionExists } from "./errors.ts";
import { sha256 } from "./files.ts";
import { artifactMetadataSchema, type ArtifactMetadata } from "./metadata.ts";
import { loadArtifact, readMetadata } from "./artifact.ts";
import { TMP_PREFIX, exists, versionDir } from "./layout.ts";

const SCHEME = "object:";
const MANIFEST = "metadata.json";
const CARD = "MODEL_CARD.md";

export interface StoredVersionPath {
  name: string;
  version: string;
  /** the key prefix of the version's objects, ending in "/" */
  prefix: string;
  /** sha256 of its metadata.json */
  manifestSha256: string;
}

/** True for an artifactPath that names a version in object storage rather than a directory. */
export function isStoredVersion(artifactPath: string): boolean {
  return artifactPath.startsWith(SCHEME);
}

export function storedVersionPath(name: string, version: string, manifestSha256: string): string {
  versionDir("/", name, version); // validates both names
  return `${SCHEME}registry/${name}/${version}#sha256=${manifestSha256}`;
}

export function parseStoredVersion(artifactPath: string): StoredVersionPath {
  const match = /^object:registry\/([^/#]+)\/([^/#]+)#sha256=([0-9a-f]{64})$/.exec(artifactPath);
  if (!match) {
    throw new ArtifactCorrupt(
      artifactPath,
      "not an object-storage version path (object:registry/<name>/<version>#sha256=<64 hex>)",
    );
  }
  const [, name, version, manifestSha256] = match as unknown as [string, string, string, string];
  versionDir("/", name, version);
  return { name, version, prefix: `registry/${name}/${version}/`, manifestSha256 };
}

/** The next free v<N> of a model in the bucket (a version exists once its manifest does). */
export async function nextStoredVersion(storage: ObjectStorage, name: string): Promise<string> {
  versionDir("/", name, "v1");
  const numbers = (await storage.list(`registry/${name}/`))
    .map((o) => new RegExp(`^registry/${name}/v(\\d+)/${MANIFEST}$`).exec(o.key)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
  return `v${Math.max(0, ...numbers) + 1}`;
}

/**
 * Uploads the local version directory `dir` (as publishVersion left it); returns the artifactPath
 * the version row must record. Refuses a version whose manifest is already in the bucket.
 */
export async function uploadVersion(
  storage: ObjectStorage,
  dir: string,
  metadata: ArtifactMetadata,
): Promise<string> {
  const prefix = `registry/${metadata.name}/${metadata.version}/`;
  versionDir("/", metadata.name, metadata.version);
  if (await storage.head(`${prefix}${MANIFEST}`))
    throw new VersionExists(metadata.name, metadata.version);
  for (const file of [...Object.keys(metadata.files), CARD])
    await storage.putFile(`${prefix}${file}`, path.join(dir, file));
  const manifest = await readFile(path.join(dir, MANIFEST));
  await storage.put(`${prefix}${MANIFEST}`, manifest);
  return storedVersionPath(metadata.name, metadata.version, sha256(manifest));
}

/**
 * A stored version as a verified local directory under `cacheDir`/<name>/<version>: downloaded
 * once (into a temp directory, checked against the pinned manifest sha256 and every file against
 * the manifest, then renamed into place); later calls find it there. ArtifactCorrupt on any
 * mismatch or missing object, ModelVersionMissing when the manifest is not in the bucket.
 */
export async function fetchVersion(
  storage: ObjectStorage,
  artifactPath: string,
  cacheDir: string,
): Promise<string> {
  const stored = parseStoredVersion(artifactPath);
  const target = versionDir(cacheDir, stored.name, stored.version);
  const where = `${storage.location}${stored.prefix}`;
  if (await exists(target)) {
    const cached = await readFile(path.join(target, MANIFEST)).catch(() => undefined);
    if (cached && sha256(cached) === stored.manifestSha256) return target;
    // a cache entry from another bucket or an older publish of the same label: fetch afresh
    await rm(target, { recursive: true, force: true });
  }
  const modelCache = path.dirname(target);
  await mkdir(modelCache, { recursive: true });
  const temp = await mkdtemp(path.join(modelCache, TMP_PREFIX));
  try {
    const manifest = await storage.get(`${stored.prefix}${MANIFEST}`);
    if (!manifest) throw new ModelVersionMissing(stored.name, stored.version);
    const actual = createHash("sha256").update(manifest).digest("hex");
    if (actual !== stored.manifestSha256) {
      throw new ArtifactCorrupt(
        where,
        `${MANIFEST} sha256 ${actual} ≠ ${stored.manifestSha256} recorded by the version row`,
      );
    }
    await mkdir(temp, { recursive: true });
    await writeFile(path.join(temp, MANIFEST), manifest);
    const metadata = await readMetadata(temp).catch((error: unknown) => {
      throw new ArtifactCorrupt(where, (error as ArtifactCorrupt).message);
    });
    artifactMetadataSchema.parse(metadata);
    for (const file of [...Object.keys(metadata.files), CARD]) {
      const present = await storage.getToFile(`${stored.prefix}${file}`, path.join(temp, file));
      if (!present) throw new ArtifactCorrupt(where, `${file} is missing from the bucket`);
    }
    try {
      await loadArtifact(temp); // every file against its sha256 in the manifest
    } catch (error) {
      if (!(error instanceof ArtifactCorrupt)) throw error;
      const problem = (error.details as { problem?: string } | undefined)?.problem ?? error.message;
      throw new ArtifactCorrupt(where, problem);
    }
    try {
      await rename(temp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // another fetch of the same version won the rename: its copy is the same verified bytes
      if (code !== "EEXIST" && code !== "ENOTEMPTY") throw error;
      await rm(temp, { recursive: true, force: true });
    }
    return target;
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
