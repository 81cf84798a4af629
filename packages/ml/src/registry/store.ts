/**
 * The file side of the model registry: registry/<name>/<version>/ holding model.onnx, id-maps.json,
 * train-history.bin (when given), metadata.json and MODEL_CARD.md.
 * A version is assembled in a hidden temp directory, fsynced, checked (ONNX vs reference) and only
 * then renamed into place, so readers never see a half-written version; existing versions are never
 * overwritten. Loading verifies every checksum and refuses a corrupt artifact (ArtifactCorrupt).
 */
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { BadInput } from "@reco/contracts";
import type { Csr } from "../data/csr.ts";
import { IR_VERSION, OPSET } from "../onnx/graph-builder.ts";
import { exportOnnx } from "../onnx/graphs.ts";
import { type RecommendRequest, type ScorerSource, createOnnxScorer } from "../onnx/session.ts";
import { verifyExport } from "../onnx/verify.ts";
import type { IdMaps, ModelParams } from "../params.ts";
import { ArtifactCorrupt, ModelVersionMissing, VersionExists } from "./errors.ts";
import { sha256, syncDirectory, writeFileDurably } from "./files.ts";
import { decodeHistory, encodeHistory } from "./history-file.ts";
import { type ArtifactMetadata, artifactMetadataSchema } from "./metadata.ts";
import { renderModelCard } from "./model-card.ts";

export const MODEL_FILE = "model.onnx";
export const ID_MAPS_FILE = "id-maps.json";
export const HISTORY_FILE = "train-history.bin";
const TMP_PREFIX = ".tmp-";
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface PublishRequest {
  registryDir: string;
  name: string;
  /** default: the next free v<N> */
  version?: string;
  algorithm: string;
  params: ModelParams;
  idMaps: IdMaps;
  /** users × items training interactions (seen-item filtering; item-item user histories) */
  trainHistory?: Csr;
  hyperparameters?: Record<string, unknown>;
  data: ArtifactMetadata["data"];
  metrics?: Record<string, number>;
  evaluation?: Record<string, unknown>;
  training?: ArtifactMetadata["training"];
  now?: Date;
}

export interface LoadedArtifact {
  dir: string;
  metadata: ArtifactMetadata;
  modelBytes: Uint8Array;
  idMaps: IdMaps;
  trainHistory?: Csr;
}

export function versionDir(registryDir: string, name: string, version: string): string {
  for (const [what, value] of [
    ["model name", name],
    ["version", version],
  ] as const) {
    if (!SAFE_NAME.test(value)) {
      throw new BadInput(
        `${what} ${JSON.stringify(value)} must match ${SAFE_NAME} (letters, digits, . _ -)`,
      );
    }
  }
  return path.join(registryDir, name, version);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function nextVersion(modelDir: string): Promise<string> {
  const entries = await readdir(modelDir).catch(() => [] as string[]);
  const numbers = entries
    .map((e) => /^v(\d+)$/.exec(e)?.[1])
    .filter((n): n is string => n !== undefined);
  return `v${Math.max(0, ...numbers.map(Number)) + 1}`;
}

/** A few users spread over the index range (and every context), to compare ONNX with the reference. */
function sampleRequests(req: PublishRequest, contexts: string[] | undefined): RecommendRequest[] {
  const nUsers = req.trainHistory?.nRows ?? (req.params.kind === "factors" ? req.params.nUsers : 0);
  const step = Math.max(1, Math.floor(nUsers / 24));
  const users: RecommendRequest[] = [];
  for (let u = 0; u < nUsers && users.length < 24; u += step) users.push({ userIndex: u });
  if (req.params.kind === "popularity")
    return [...users, ...(contexts ?? [""]).map((context) => ({ context }))];
  if (req.params.kind === "item-item")
    return [...users, { historyIndices: [0, Math.floor(req.params.nItems / 2)] }];
  return users;
}

function checkPublishable(req: PublishRequest): void {
  const p = req.params;
  if (req.idMaps.items.length !== p.nItems) {
    throw new BadInput(`id map has ${req.idMaps.items.length} items, the model ${p.nItems}`);
  }
  if (p.kind === "factors" && req.idMaps.users.length !== p.nUsers) {
    throw new BadInput(`id map has ${req.idMaps.users.length} users, the model ${p.nUsers}`);
  }
  const h = req.trainHistory;
  if (h && (h.nCols !== p.nItems || h.nRows !== req.idMaps.users.length)) {
    throw new BadInput(
      `train history is ${h.nRows}×${h.nCols}, expected ${req.idMaps.users.length}×${p.nItems}`,
    );
  }
}

async function assemble(
  req: PublishRequest,
  tmp: string,
  version: string,
): Promise<ArtifactMetadata> {
  checkPublishable(req);
  const graph = exportOnnx(req.params);
  const p = req.params;
  const source: ScorerSource = {
    kind: p.kind,
    modelBytes: graph.bytes,
    nItems: p.nItems,
    nUsers: req.idMaps.users.length,
    factors: p.kind === "factors" ? p.factors : undefined,
    contexts: graph.contexts,
    trainHistory: req.trainHistory,
  };
  const scorer = await createOnnxScorer(source);
  let check;
  try {
    check = await verifyExport(
      p,
      source,
      scorer,
      sampleRequests(req, graph.contexts),
      Math.min(20, p.nItems),
    );
  } finally {
    await scorer.release();
  }
  if (check.mismatches.length > 0) {
    throw new Error(
      `ONNX export disagrees with the reference scorer: ${check.mismatches.slice(0, 3).join("; ")}`,
    );
  }

  const files: Record<string, Uint8Array> = {
    [MODEL_FILE]: graph.bytes,
    [ID_MAPS_FILE]: new TextEncoder().encode(JSON.stringify(req.idMaps)),
  };
  if (req.trainHistory) files[HISTORY_FILE] = encodeHistory(req.trainHistory);
  const metadata: ArtifactMetadata = {
    formatVersion: 1,
    name: req.name,
    version,
    kind: p.kind,
    algorithm: req.algorithm,
    createdAt: (req.now ?? new Date()).toISOString(),
    onnx: {
      file: MODEL_FILE,
      irVersion: IR_VERSION,
      opset: OPSET,
      inputs: graph.inputs,
      outputs: graph.outputs,
    },
    shape: {
      nUsers: req.idMaps.users.length,
      nItems: p.nItems,
      ...(p.kind === "factors" ? { factors: p.factors } : {}),
      ...(graph.contexts ? { contexts: graph.contexts } : {}),
    },
    ...(p.kind === "factors"
      ? { foldIn: { regularization: p.regularization, alpha: p.alpha } }
      : {}),
    hyperparameters: req.hyperparameters ?? {},
    data: req.data,
    metrics: req.metrics ?? {},
    ...(req.evaluation ? { evaluation: req.evaluation } : {}),
    exportCheck: { requests: check.requests, maxAbsDiff: check.maxAbsDiff },
    files: Object.fromEntries(
      Object.entries(files).map(([f, bytes]) => [
        f,
        { sha256: sha256(bytes), bytes: bytes.byteLength },
      ]),
    ),
    ...(req.training ? { training: req.training } : {}),
  };
  artifactMetadataSchema.parse(metadata);
  for (const [f, bytes] of Object.entries(files)) await writeFileDurably(path.join(tmp, f), bytes);
  await writeFileDurably(path.join(tmp, "metadata.json"), JSON.stringify(metadata, null, 2) + "\n");
  await writeFileDurably(path.join(tmp, "MODEL_CARD.md"), renderModelCard(metadata));
  await chmod(tmp, 0o755); // mkdtemp makes it private; a published version is readable by the serving processes
  await syncDirectory(tmp);
  return metadata;
}

export async function publishVersion(
  req: PublishRequest,
): Promise<{ dir: string; metadata: ArtifactMetadata }> {
  const modelDir = path.join(req.registryDir, req.name);
  versionDir(req.registryDir, req.name, req.version ?? "v1"); // validates the names before touching disk
  await mkdir(modelDir, { recursive: true });
  let version = req.version ?? (await nextVersion(modelDir));
  if (req.version && (await exists(versionDir(req.registryDir, req.name, version)))) {
    throw new VersionExists(req.name, version);
  }
  const tmp = await mkdtemp(path.join(modelDir, TMP_PREFIX));
  try {
    let metadata = await assemble(req, tmp, version);
    for (let attempt = 0; ; attempt++) {
      const target = versionDir(req.registryDir, req.name, version);
      try {
        // rename(2) refuses a non-empty target, so a concurrent publisher of the same version loses.
        if (await exists(target)) throw Object.assign(new Error("exists"), { code: "EEXIST" });
        await rename(tmp, target);
        await syncDirectory(modelDir);
        return { dir: target, metadata };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== "EEXIST" && code !== "ENOTEMPTY") || req.version || attempt >= 5) {
          throw code === "EEXIST" || code === "ENOTEMPTY"
            ? new VersionExists(req.name, version)
            : error;
        }
        // An auto-numbered version raced with another publisher: take the next number.
        version = await nextVersion(modelDir);
        await rm(tmp, { recursive: true, force: true });
        await mkdir(tmp);
        metadata = await assemble(req, tmp, version);
      }
    }
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
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
