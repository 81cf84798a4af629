/**
 * Exact inverse of a dense symmetric positive-definite matrix in float64, for EASE^R.
 *
 * Recursive 2 × 2 block inversion through the Schur complement, which needs no pivoting for an
 * SPD matrix (every leading block and every Schur complement is SPD again):
 *
 *   A = [A11 A21ᵀ; A21 A22],  X = A11⁻¹,  Y = A21·X,  S = A22 − Y·A21ᵀ
 *   A⁻¹ = [X − Yᵀ·B21, B21ᵀ; B21, S⁻¹]  with  B21 = −S⁻¹·Y
 *
 * The products run as onnxruntime `Gemm` (float64, MLAS, `threads` intra-op threads: both cores
 * by default) and blocks of at most `base` rows are inverted by onnxruntime's `Inverse` kernel
 * (com.microsoft domain, Eigen). About 2n³ flops in all, nearly all of it in Gemm.
 */
import { disableOnnxRuntimeTelemetry } from "@reco/contracts";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";

const { onnx } = onnxProto;
const DOUBLE = onnx.TensorProto.DataType.DOUBLE;

export interface SpdInverseOptions {
  /** blocks of at most this many rows are inverted directly (default 1024) */
  base?: number;
  /** onnxruntime intra-op threads (default 2) */
  threads?: number;
}

function matrixInfo(name: string) {
  return {
    name,
    type: {
      tensorType: {
        elemType: DOUBLE,
        shape: { dim: [{ dimParam: `${name}_rows` }, { dimParam: `${name}_cols` }] },
      },
    },
  };
}

function session(
  node: onnxProto.onnx.INodeProto,
  inputs: string[],
  threads: number,
): Promise<ort.InferenceSession> {
  const model = onnx.ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [
      { domain: "", version: 17 },
      { domain: "com.microsoft", version: 1 },
    ],
    producerName: "reco-ml",
    graph: {
      name: "linalg",
      input: inputs.map(matrixInfo),
      output: [matrixInfo("out")],
      node: [node],
    },
  });
  disableOnnxRuntimeTelemetry();
  return ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "disabled",
  });
}

const attr = (name: string, value: number, float = false) =>
  float
    ? { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value }
    : { name, type: onnx.AttributeProto.AttributeType.INT, i: value };

interface Kernels {
  inverse(a: Float64Array, n: number): Promise<Float64Array>;
  /** alpha · op(a) · op(b) (+ c), op = transpose when asked */
  gemm(
    a: Float64Array,
    aShape: [number, number],
    b: Float64Array,
    bShape: [number, number],
    options: { transA?: boolean; transB?: boolean; alpha: number; c?: Float64Array },
  ): Promise<Float64Array>;
  release(): Promise<void>;
}

async function kernels(threads: number): Promise<Kernels> {
  const inverse = await session(
    { opType: "Inverse", domain: "com.microsoft", input: ["a"], output: ["out"], name: "inv" },
    ["a"],
    threads,
  );
  const gemms = new Map<string, ort.InferenceSession>();
  const gemmSession = async (transA: boolean, transB: boolean, alpha: number, withC: boolean) => {
    const key = `${transA}${transB}${alpha}${withC}`;
    let s = gemms.get(key);
    if (!s) {
      s = await session(
        {
          opType: "Gemm",
          input: withC ? ["a", "b", "c"] : ["a", "b"],
          output: ["out"],
          name: "gemm",
          attribute: [
            attr("transA", transA ? 1 : 0),
            attr("transB", transB ? 1 : 0),
            attr("alpha", alpha, true),
            attr("beta", 1, true),
          ],
        },
        withC ? ["a", "b", "c"] : ["a", "b"],
        threads,
      );
      gemms.set(key, s);
    }
    return s;
  };
  return {
    async inverse(a, n) {
      const out = await inverse.run({ a: new ort.Tensor("float64", a, [n, n]) });
      return out.out!.data as Float64Array;
    },
    async gemm(a, aShape, b, bShape, { transA = false, transB = false, alpha, c }) {
      const s = await gemmSession(transA, transB, alpha, c !== undefined);
      const rows = transA ? aShape[1] : aShape[0];
      const cols = transB ? bShape[0] : bShape[1];
      const feeds: Record<string, ort.Tensor> = {
        a: new ort.Tensor("float64", a, aShape),
        b: new ort.Tensor("float64", b, bShape),
      };
      if (c) feeds.c = new ort.Tensor("float64", c, [rows, cols]);
      const out = await s.run(feeds);
      return out.out!.data as Float64Array;
    },
    async release() {
      await inverse.release();
      for (const s of gemms.values()) await s.release();
    },
  };
}

function block(a: Float64Array, n: number, row: number, col: number, rows: number, cols: number) {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const from = (row + r) * n + col;
    out.set(a.subarray(from, from + cols), r * cols);
  }
  return out;
}

/**
 * Inverts the SPD matrix held by `holder.matrix` (row-major n × n) and returns A⁻¹. The holder's
 * reference is dropped once its blocks are copied, so the caller's copy can be collected early.
 */
async function invert(holder: { matrix?: Float64Array }, n: number, k: Kernels, base: number) {
  // Locals of an async function live as long as its frame: every large array is a `let` that is
  // cleared once used, so at most about two n × n matrices are alive at a time. The linter's
  // no-useless-assignment does not know that clearing releases memory, hence the disables below.
  let a = holder.matrix;
  holder.matrix = undefined;
  if (n <= base) return k.inverse(a!, n);
  const n1 = n >> 1;
  const n2 = n - n1;
  const a11 = { matrix: block(a!, n, 0, 0, n1, n1) as Float64Array | undefined };
  let a21: Float64Array | undefined = block(a!, n, n1, 0, n2, n1);
  let a22: Float64Array | undefined = block(a!, n, n1, n1, n2, n2);
  // eslint-disable-next-line no-useless-assignment -- frees the array for the collector
  a = undefined;
  let x: Float64Array | undefined = await invert(a11, n1, k, base);
  let y: Float64Array | undefined = await k.gemm(a21, [n2, n1], x, [n1, n1], { alpha: 1 });
  const s = {
    matrix: (await k.gemm(y, [n2, n1], a21, [n2, n1], { transB: true, alpha: -1, c: a22 })) as
      Float64Array | undefined,
  };
  // eslint-disable-next-line no-useless-assignment -- frees the array for the collector
  a21 = a22 = undefined;
  const sInverse = await invert(s, n2, k, base);
  const b21 = await k.gemm(sInverse, [n2, n2], y, [n2, n1], { alpha: -1 });
  const b11 = await k.gemm(y, [n2, n1], b21, [n2, n1], { transA: true, alpha: -1, c: x });
  // eslint-disable-next-line no-useless-assignment -- frees the array for the collector
  x = y = undefined;
  const out = new Float64Array(n * n);
  for (let r = 0; r < n1; r++) {
    out.set(b11.subarray(r * n1, (r + 1) * n1), r * n);
    for (let c = 0; c < n2; c++) out[r * n + n1 + c] = b21[c * n1 + r]!;
  }
  for (let r = 0; r < n2; r++) {
    out.set(b21.subarray(r * n1, (r + 1) * n1), (n1 + r) * n);
    out.set(sInverse.subarray(r * n2, (r + 1) * n2), (n1 + r) * n + n1);
  }
  return out;
}

/**
 * A⁻¹ of a symmetric positive-definite row-major n × n float64 matrix. `holder.matrix` is
 * consumed (set to undefined as soon as it has been copied into blocks).
 */
export async function spdInverse(
  holder: { matrix?: Float64Array },
  n: number,
  options: SpdInverseOptions = {},
): Promise<Float64Array> {
  const base = Math.max(1, options.base ?? 1024);
  if (!holder.matrix || holder.matrix.length !== n * n) {
    throw new Error(`spdInverse: expected an ${n} × ${n} matrix`);
  }
  const k = await kernels(Math.max(1, options.threads ?? 2));
  try {
    return await invert(holder, n, k, base);
  } finally {
    await k.release();
  }
}
