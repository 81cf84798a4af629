/**
 * Publishing to the model registry: registry/<name>/<version>/ holding model.onnx, id-maps.json,
 * train-history.bin (when given), metadata.json and MODEL_CARD.md.
 * A version is assembled in a hidden temp directory, fsynced, checked (ONNX vs reference) and only
 * then renamed into place, so readers never see a half-written version; existing versions are never
 * overwritten. Reading and verifying versions is in artifact.ts.
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { BadInput } from "@reco/contracts";
import type { Csr } from "../data/csr.ts";
import { IR_VERSION, OPSET } from "../onnx/graph-builder.ts";
import { exportOnnx } from "../onnx/graphs.ts";
import { type RecommendRequest, type ScorerSource, createOnnxScorer } from "../onnx/session.ts";
import { verifyExport } from "../onnx/verify.ts";
import type { IdMaps, ModelParams } from "../params.ts";
import { VersionExists } from "./errors.ts";
import { sha256, syncDirectory, writeFileDurably } from "./files.ts";
import { encodeHistory } from "./history-file.ts";
import {
  HISTORY_FILE,
  ID_MAPS_FILE,
  MODEL_FILE,
  TMP_PREFIX,
  exists,
  versionDir,
} from "./layout.ts";
import { type ArtifactMetadata, artifactMetadataSchema } from "./metadata.ts";
import { renderModelCard } from "./model-card.ts";

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
  /** what `params` were fitted on (see ArtifactMetadata.fittedOn) */
  fittedOn?: ArtifactMetadata["fittedOn"];
  metrics?: Record<string, number>;
  evaluation?: Record<string, unknown>;
  training?: ArtifactMetadata["training"];
  now?: Date;
}

/** Temp directories of publishes that crashed (killed mid-write) an hour or more ago. */
const ABANDONED_AFTER_MS = 3_600_000;
async function pruneAbandoned(modelDir: string): Promise<void> {
  for (const entry of await readdir(modelDir)) {
    if (!entry.startsWith(TMP_PREFIX)) continue;
    const dir = path.join(modelDir, entry);
    const info = await stat(dir).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > ABANDONED_AFTER_MS)
      await rm(dir, { recursive: true, force: true });
  }
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
    ...(req.fittedOn ? { fittedOn: req.fittedOn } : {}),
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
  await pruneAbandoned(modelDir);
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
