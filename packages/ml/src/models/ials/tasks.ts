import { accumulateGram, createScratch, type RowSystem, solveRows } from "./solver.ts";

/** Gram partials are summed per fixed block, in block order, so results do not depend on thread count. */
export const GRAM_BLOCKS = 16;
const SOLVE_CHUNK = 64;

export interface SharedCsr {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Everything the solver threads share; every array is backed by a SharedArrayBuffer. */
export interface SharedState {
  k: number;
  nUsers: number;
  nItems: number;
  userItems: SharedCsr;
  itemUsers: SharedCsr;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  /** GRAM_BLOCKS × k × k partial Gram matrices */
  gramParts: Float64Array;
  /** full Gram of the fixed side, assembled by the main thread */
  gram: Float64Array;
  /** work-stealing cursor (next block or chunk) */
  cursor: Int32Array;
}

/** "users": solve user rows against item factors; "items": the reverse. */
export type Side = "users" | "items";

export type Task =
  | { op: "gram"; side: Side }
  | { op: "solve"; side: Side; regularization: number; alpha: number; cgSteps: number };

const fixedOf = (state: SharedState, side: Side) =>
  side === "users"
    ? { factors: state.itemFactors, rows: state.nItems }
    : { factors: state.userFactors, rows: state.nUsers };

/** Runs one task's share of the work, taking blocks/chunks until none are left. Returns non-finite rows. */
export function runTask(state: SharedState, task: Task): number {
  const { k } = state;
  if (task.op === "gram") {
    const { factors, rows } = fixedOf(state, task.side);
    for (;;) {
      const block = Atomics.add(state.cursor, 0, 1);
      if (block >= GRAM_BLOCKS) return 0;
      const part = state.gramParts.subarray(block * k * k, (block + 1) * k * k);
      part.fill(0);
      accumulateGram(
        factors,
        k,
        Math.floor((block * rows) / GRAM_BLOCKS),
        Math.floor(((block + 1) * rows) / GRAM_BLOCKS),
        part,
      );
    }
  }
  const solving = task.side === "users";
  const matrix = solving ? state.userItems : state.itemUsers;
  const rows = solving ? state.nUsers : state.nItems;
  const system: RowSystem = {
    k,
    regularization: task.regularization,
    alpha: task.alpha,
    cgSteps: task.cgSteps,
    gram: state.gram,
    fixed: fixedOf(state, task.side).factors,
    indptr: matrix.indptr,
    indices: matrix.indices,
    values: matrix.values,
    target: solving ? state.userFactors : state.itemFactors,
  };
  const scratch = createScratch(k);
  let nonFinite = 0;
  for (;;) {
    const from = Atomics.add(state.cursor, 0, 1) * SOLVE_CHUNK;
    if (from >= rows) return nonFinite;
    nonFinite += solveRows(system, from, Math.min(rows, from + SOLVE_CHUNK), scratch);
  }
}
