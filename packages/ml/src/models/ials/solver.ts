/**
 * iALS maths (Hu, Koren & Volinsky 2008, with the conjugate-gradient update of Takács et al.
 * 2011) in TypeScript, for fold-in.
 *
 * For a row u with items i, confidences c_i = 1 + alpha·v_ui and fixed factors Y, the update
 * solves (YᵀY + Σ_i (c_i − 1) y_i y_iᵀ + λI) x_u = Σ_i c_i y_i. The per-row conjugate-gradient
 * solve and training's YᵀY are the WebAssembly SIMD kernel (packages/ml/assembly/ials-cg.ts,
 * loaded by cg-wasm.ts); its Gram equals accumulateGram below bit for bit.
 */

/** Adds the upper triangle of Σ_r f_r f_rᵀ over rows [from, to) into `out` (k × k). */
export function accumulateGram(
  factors: Float32Array,
  k: number,
  from: number,
  to: number,
  out: Float64Array,
): void {
  for (let r = from; r < to; r++) {
    const base = r * k;
    for (let a = 0; a < k; a++) {
      const fa = factors[base + a]!;
      if (fa === 0) continue;
      const row = a * k;
      for (let b = a; b < k; b++) out[row + b]! += fa * factors[base + b]!;
    }
  }
}

/** Copies the upper triangle to the lower one. */
export function symmetrize(gram: Float64Array, k: number): void {
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) gram[a * k + b] = gram[b * k + a]!;
}

/** Solves the SPD system A·x = b in place by Cholesky (A is k × k, overwritten). */
export function choleskySolve(a: Float64Array, b: Float64Array, k: number): Float64Array {
  for (let j = 0; j < k; j++) {
    let diagonal = a[j * k + j]!;
    for (let m = 0; m < j; m++) diagonal -= a[j * k + m]! ** 2;
    const root = Math.sqrt(diagonal);
    a[j * k + j] = root;
    for (let i = j + 1; i < k; i++) {
      let sum = a[i * k + j]!;
      for (let m = 0; m < j; m++) sum -= a[i * k + m]! * a[j * k + m]!;
      a[i * k + j] = sum / root;
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = b[i]!;
    for (let m = 0; m < i; m++) sum -= a[i * k + m]! * y[m]!;
    y[i] = sum / a[i * k + i]!;
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let m = i + 1; m < k; m++) sum -= a[m * k + i]! * x[m]!;
    x[i] = sum / a[i * k + i]!;
  }
  return x;
}
