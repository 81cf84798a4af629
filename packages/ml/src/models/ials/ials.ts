import type { Interactions } from "../../data/interactions.ts";
import { seededRandom } from "../../data/random.ts";
import type { FactorParams } from "../../params.ts";
import { TrainingDiverged } from "../errors.ts";
import type { FitHooks, HyperParameters, Recommender } from "../recommender.ts";
import { SolverPool } from "./pool.ts";
import { chunkBoundaries, GRAM_BLOCKS, type SharedCsr, type SharedState } from "./tasks.ts";

type TypedArray = Int32Array | Float32Array | Float64Array;

/** The same values in SharedArrayBuffer memory (no copy when they already are). */
function shared<T extends TypedArray>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const Constructor = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Constructor(new SharedArrayBuffer(array.byteLength));
  copy.set(array as never);
  return copy;
}

const sharedCsr = (matrix: SharedCsr): SharedCsr => ({
  indptr: shared(matrix.indptr),
  indices: shared(matrix.indices),
  values: shared(matrix.values),
});

function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
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
  const state: SharedState = {
    k,
    nUsers: train.nUsers,
    nItems: train.nItems,
    userItems: sharedCsr(train.userItems),
    itemUsers: sharedCsr(train.itemUsers),
    userFactors: sharedFloat32(train.nUsers * k),
    itemFactors: sharedFloat32(train.nItems * k),
    gramParts: new Float64Array(new SharedArrayBuffer(GRAM_BLOCKS * k * k * 8)),
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
