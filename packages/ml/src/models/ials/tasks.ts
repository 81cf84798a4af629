import type { Kernel, WasmMemory } from "./cg-wasm.ts";

/** Gram partials are summed per fixed block, in block order, so results do not depend on thread count. */
export const GRAM_BLOCKS = 16;
/** Rows are handed out in chunks of about equal cost; this many per side. */
const CHUNKS_PER_SIDE = 512;

export interface SharedCsr {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * Everything the solver threads share; every array is backed by a SharedArrayBuffer, and the ones
 * the WebAssembly kernel reads (CSR, factors, gramParts, gram32, scratch) are views into `memory`, their
 * byteOffset being the kernel's pointer.
 */
export interface SharedState {
  k: number;
  memory: WasmMemory;
  nUsers: number;
  nItems: number;
  userItems: SharedCsr;
  itemUsers: SharedCsr;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  /** GRAM_BLOCKS × k × k partial Gram matrices */
  gramParts: Float64Array;
  /** full Gram of the fixed side, assembled by the main thread in float64 */
  gram: Float64Array;
  /** the same in float32, for the kernel */
  gram32: Float32Array;
  /** 4·k floats per thread slot (slot 0: the main thread, n: worker n) */
  scratch: Float32Array;
  /** work-stealing cursor (next block or chunk) */
  cursor: Int32Array;
  /** chunk boundaries (row indices) of each side, from chunkBoundaries() */
  userChunks: Int32Array;
  itemChunks: Int32Array;
}

/** "users": solve user rows against item factors; "items": the reverse. */
export type Side = "users" | "items";

export type Task =
  | { op: "gram"; side: Side }
  | { op: "solve"; side: Side; regularization: number; alpha: number; cgSteps: number };

/**
 * Splits rows into contiguous chunks of about equal cost (a row costs ~ 2k per interaction plus
 * k² per CG product), so a power-law item with 100k users does not leave one thread working alone.
 */
export function chunkBoundaries(indptr: Int32Array, k: number): Int32Array {
  const rows = indptr.length - 1;
  const perRow = k / 2;
  const total = indptr[rows]! + rows * perRow;
  const target = total / CHUNKS_PER_SIDE;
  const bounds = [0];
  let cost = 0;
  for (let row = 0; row < rows; row++) {
    cost += indptr[row + 1]! - indptr[row]! + perRow;
    if (cost >= target) {
      bounds.push(row + 1);
      cost = 0;
    }
  }
  if (bounds[bounds.length - 1] !== rows) bounds.push(rows);
  return Int32Array.from(bounds);
}

const fixedOf = (state: SharedState, side: Side) =>
  side === "users"
    ? { factors: state.itemFactors, rows: state.nItems }
    : { factors: state.userFactors, rows: state.nUsers };

/** Runs one task's share of the work, taking blocks/chunks until none are left. Returns non-finite rows. */
export function runTask(state: SharedState, task: Task, kernel: Kernel, slot: number): number {
  const { k } = state;
  if (task.op === "gram") {
    const { factors, rows } = fixedOf(state, task.side);
    for (;;) {
      const block = Atomics.add(state.cursor, 0, 1);
      if (block >= GRAM_BLOCKS) return 0;
      const part = state.gramParts.subarray(block * k * k, (block + 1) * k * k);
      part.fill(0);
      kernel.accumulateGram(
        factors.byteOffset,
        k,
        Math.floor((block * rows) / GRAM_BLOCKS),
        Math.floor(((block + 1) * rows) / GRAM_BLOCKS),
        part.byteOffset,
      );
    }
  }
  const solving = task.side === "users";
  const matrix = solving ? state.userItems : state.itemUsers;
  const fixed = fixedOf(state, task.side).factors;
  const target = solving ? state.userFactors : state.itemFactors;
  const scratch = state.scratch.byteOffset + slot * 4 * k * 4;
  let nonFinite = 0;
  const chunks = solving ? state.userChunks : state.itemChunks;
  for (;;) {
    const chunk = Atomics.add(state.cursor, 0, 1);
    if (chunk + 1 >= chunks.length) return nonFinite;
    nonFinite += kernel.solveRows(
      k,
      task.regularization,
      task.alpha,
      task.cgSteps,
      state.gram32.byteOffset,
      fixed.byteOffset,
      matrix.indptr.byteOffset,
      matrix.indices.byteOffset,
      matrix.values.byteOffset,
      target.byteOffset,
      chunks[chunk]!,
      chunks[chunk + 1]!,
      scratch,
    );
  }
}
