import { readFileSync } from "node:fs";

/**
 * The WebAssembly SIMD row solver (source: packages/ml/assembly/ials-cg.ts, compiled by
 * `npm run build:wasm -w packages/ml`; cg-wasm.test.ts checks the committed binary is a fresh
 * compile). Every pointer is a byte offset into the shared memory it is instantiated on.
 */
export type WasmSolveRows = (
  k: number,
  regularization: number,
  alpha: number,
  cgSteps: number,
  gram: number,
  fixed: number,
  indptr: number,
  indices: number,
  values: number,
  target: number,
  from: number,
  to: number,
  scratch: number,
) => number;

/** A shared WebAssembly.Memory (its buffer can be posted to workers with the memory itself). */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}

// The part of the WebAssembly API used here; @types/node 20 does not declare the global (lib.dom
// does, and a global declaration here would clash with it in packages that load lib.dom).
interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: { env: { memory: WasmMemory } },
  ) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Adds the upper triangle of Σ_r f_r f_rᵀ over rows [from, to) into `out` (k × k float64). */
export type WasmAccumulateGram = (
  factors: number,
  k: number,
  from: number,
  to: number,
  out: number,
) => void;

export interface Kernel {
  solveRows: WasmSolveRows;
  accumulateGram: WasmAccumulateGram;
}

let compiled: object | undefined;

/** Instantiates the kernel on `memory` (shared between the solver threads). */
export function instantiateKernel(memory: WasmMemory): Kernel {
  compiled ??= new wasm.Module(readFileSync(new URL("./cg.wasm", import.meta.url)));
  const { exports } = new wasm.Instance(compiled, { env: { memory } });
  return {
    solveRows: exports.solveRows as WasmSolveRows,
    accumulateGram: exports.accumulateGram as WasmAccumulateGram,
  };
}

const PAGE = 65536;

/**
 * Carves 16-byte-aligned typed arrays out of one shared WebAssembly memory, sized up front (a
 * shared memory cannot move, and the kernel reads everything through it).
 */
export class SharedArena {
  readonly memory: WasmMemory;
  private next = 0;

  constructor(readonly byteLength: number) {
    const pages = Math.max(1, Math.ceil(byteLength / PAGE));
    if (pages > 65536) {
      throw new RangeError(
        `iALS needs ${byteLength} bytes of solver memory; WebAssembly allows at most 4 GiB`,
      );
    }
    this.memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  }

  /** Bytes one array of `length` elements takes in the arena (with alignment). */
  static bytes(length: number, bytesPerElement: number): number {
    return Math.ceil((length * bytesPerElement) / 16) * 16;
  }

  private take(bytes: number): number {
    const at = this.next;
    this.next += Math.ceil(bytes / 16) * 16;
    if (this.next > this.byteLength) throw new RangeError("iALS solver arena sized too small");
    return at;
  }

  int32(length: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.take(length * 4), length);
  }

  float32(length: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.take(length * 4), length);
  }

  float64(length: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.take(length * 8), length);
  }
}
