import type { Interactions } from "../../data/interactions.ts";
import { seededRandom } from "../../data/random.ts";
import type { FactorParams } from "../../params.ts";
import { TrainingDiverged } from "../errors.ts";
import type { FitHooks, HyperParameters, Recommender } from "../recommender.ts";
import { SolverPool } from "./pool.ts";
import { SharedArena } from "./cg-wasm.ts";
import { chunkBoundaries, GRAM_BLOCKS, type SharedCsr, type SharedState } from "./tasks.ts";

/** Copies a CSR into the arena, where the kernel can read it. */
function arenaCsr(arena: SharedArena, matrix: SharedCsr): SharedCsr {
  const nnz = matrix.indptr[matrix.indptr.length - 1]!;
  const copy = {
    indptr: arena.int32(matrix.indptr.length),
    indices: arena.int32(nnz),
    values: arena.float32(nnz),
  };
  copy.indptr.set(matrix.indptr);
  copy.indices.set(matrix.indices.subarray(0, nnz));
  copy.values.set(matrix.values.subarray(0, nnz));
  return copy;
}

const csrBytes = (matrix: SharedCsr) =>
  SharedArena.bytes(matrix.indptr.length, 4) +
  2 * SharedArena.bytes(matrix.indptr[matrix.indptr.length - 1]!, 4);

/** A typed array on its own SharedArrayBuffer. */
function shared<T extends Int32Array | Float64Array>(array: T): T {
  const Constructor = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Constructor(new SharedArrayBuffer(Math.max(8, array.byteLength)));
  copy.set(array as never);
  return copy;
}

/** Alternating least squares for implicit feedback; see solver.ts for the update. */
export async function trainIals(
  train: Interactions,
  params: HyperParameters,
  hooks?: FitHooks,
): Promise<FactorParams> {
  const k = params.factors!;
  const epochs = params.epochs!;
  const options = {
    regularization: params.regularization!,
    alpha: params.alpha!,
    cgSteps: params.cgSteps!,
  };
  const random = seededRandom(params.seed!);
  const slots = params.threads! + 1;
  const arena = new SharedArena(
    csrBytes(train.userItems) +
      csrBytes(train.itemUsers) +
      SharedArena.bytes(train.nUsers * k, 4) +
      SharedArena.bytes(train.nItems * k, 4) +
      SharedArena.bytes(k * k, 4) +
      SharedArena.bytes(slots * 4 * k, 4) +
      SharedArena.bytes(GRAM_BLOCKS * k * k, 8),
  );
  const state: SharedState = {
    k,
    memory: arena.memory,
    nUsers: train.nUsers,
    nItems: train.nItems,
    userItems: arenaCsr(arena, train.userItems),
    itemUsers: arenaCsr(arena, train.itemUsers),
    userFactors: arena.float32(train.nUsers * k),
    itemFactors: arena.float32(train.nItems * k),
    gram32: arena.float32(k * k),
    scratch: arena.float32(slots * 4 * k),
    gramParts: arena.float64(GRAM_BLOCKS * k * k),
    gram: new Float64Array(new SharedArrayBuffer(k * k * 8)),
    cursor: new Int32Array(new SharedArrayBuffer(4)),
    userChunks: shared(chunkBoundaries(train.userItems.indptr, k)),
    itemChunks: shared(chunkBoundaries(train.itemUsers.indptr, k)),
  };
  const scale = params.initScale! / Math.sqrt(k);
  for (let n = 0; n < state.itemFactors.length; n++) state.itemFactors[n] = random.normal() * scale;
  for (let n = 0; n < state.userFactors.length; n++) state.userFactors[n] = random.normal() * scale;

  const pool = SolverPool.create(state, params.threads!);
  const started = performance.now();
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (const side of ["users", "items"] as const) {
        await pool.gram(side);
        const nonFinite = await pool.solve(side, options);
        if (nonFinite > 0) {
          throw new TrainingDiverged(
            "ials",
            epoch,
            `${nonFinite} ${side === "users" ? "user" : "item"} vectors are NaN/Infinity`,
          );
        }
      }
      hooks?.onProgress?.({ epoch, epochs, elapsedMs: performance.now() - started });
    }
  } finally {
    await pool.close();
  }
  return {
    kind: "factors",
    factors: k,
    nUsers: train.nUsers,
    nItems: train.nItems,
    userFactors: state.userFactors.slice(),
    itemFactors: state.itemFactors.slice(),
    regularization: options.regularization,
    alpha: options.alpha,
  };
}

export const ials: Recommender = {
  kind: "ials",
  summary:
    "implicit ALS (confidence 1 + alpha·value), conjugate-gradient updates on worker threads",
  parameters: {
    factors: {
      default: 32,
      min: 1,
      max: 1024,
      search: [16, 192],
      logScale: true,
      integer: true,
      help: "latent dimensions",
    },
    epochs: {
      default: 10,
      min: 1,
      max: 500,
      integer: true,
      help: "alternating passes over users and items",
    },
    regularization: {
      default: 20,
      min: 0,
      max: 10000,
      search: [0.01, 100],
      logScale: true,
      help: "L2 penalty λ",
    },
    alpha: {
      default: 25,
      min: 0,
      max: 10000,
      search: [0.5, 100],
      logScale: true,
      help: "confidence scale: c = 1 + alpha·value",
    },
    cgSteps: {
      default: 3,
      min: 1,
      max: 64,
      integer: true,
      help: "conjugate-gradient steps per row update",
    },
    initScale: {
      default: 0.1,
      min: 0,
      max: 10,
      help: "std-dev × √factors of the random initial factors",
    },
    threads: {
      default: 2,
      min: 0,
      max: 64,
      integer: true,
      help: "solver worker threads (0 = main thread)",
    },
    seed: {
      default: 42,
      min: 0,
      max: 2 ** 31,
      integer: true,
      help: "random seed of the initial factors",
    },
  },
  fit: trainIals,
};
