/**
 * iALS kernels (Hu, Koren & Volinsky 2008, with the conjugate-gradient update of Takács et al.
 * 2011). Pure functions over typed arrays so the main thread and the workers run the same code.
 *
 * For a row u with items i, confidences c_i = 1 + alpha·v_ui and fixed factors Y, the update
 * solves (YᵀY + Σ_i (c_i − 1) y_i y_iᵀ + λI) x_u = Σ_i c_i y_i.
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

export interface RowSystem {
  k: number;
  regularization: number;
  alpha: number;
  cgSteps: number;
  /** full symmetric YᵀY of the fixed side */
  gram: Float64Array;
  /** factors of the fixed side, row-major */
  fixed: Float32Array;
  /** CSR rows of the side being solved */
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  /** factors being solved (read as the warm start, overwritten) */
  target: Float32Array;
}

export interface Scratch {
  x: Float64Array;
  r: Float64Array;
  p: Float64Array;
  ap: Float64Array;
}

export const createScratch = (k: number): Scratch => ({
  x: new Float64Array(k),
  r: new Float64Array(k),
  p: new Float64Array(k),
  ap: new Float64Array(k),
});

/**
 * A·v for row [start, end): (G + λI)v + Σ alpha·v_i (y_i·v) y_i; with `minusRhs`, A·v − b in the
 * same pass (b = Σ (1 + alpha·v_i) y_i). Inner loops unrolled by 4 (the hot path).
 */
function applySystem(
  system: RowSystem,
  start: number,
  end: number,
  v: Float64Array,
  out: Float64Array,
  minusRhs = false,
): void {
  const { k, gram, fixed, indices, values, alpha, regularization } = system;
  const k4 = k - (k % 4);
  for (let a = 0; a < k; a++) {
    const row = a * k;
    let s0 = regularization * v[a]!;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let b = 0;
    for (; b < k4; b += 4) {
      s0 += gram[row + b]! * v[b]!;
      s1 += gram[row + b + 1]! * v[b + 1]!;
      s2 += gram[row + b + 2]! * v[b + 2]!;
      s3 += gram[row + b + 3]! * v[b + 3]!;
    }
    for (; b < k; b++) s0 += gram[row + b]! * v[b]!;
    out[a] = s0 + s1 + s2 + s3;
  }
  for (let e = start; e < end; e++) {
    const base = indices[e]! * k;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let f = 0;
    for (; f < k4; f += 4) {
      d0 += fixed[base + f]! * v[f]!;
      d1 += fixed[base + f + 1]! * v[f + 1]!;
      d2 += fixed[base + f + 2]! * v[f + 2]!;
      d3 += fixed[base + f + 3]! * v[f + 3]!;
    }
    for (; f < k; f++) d0 += fixed[base + f]! * v[f]!;
    const weight = alpha * values[e]!;
    const scale = weight * (d0 + d1 + d2 + d3) - (minusRhs ? 1 + weight : 0);
    for (f = 0; f < k4; f += 4) {
      out[f]! += scale * fixed[base + f]!;
      out[f + 1]! += scale * fixed[base + f + 1]!;
      out[f + 2]! += scale * fixed[base + f + 2]!;
      out[f + 3]! += scale * fixed[base + f + 3]!;
    }
    for (; f < k; f++) out[f]! += scale * fixed[base + f]!;
  }
}

/**
 * Updates rows [from, to) with `cgSteps` conjugate-gradient steps warm-started from the current
 * factors. Returns how many rows came out non-finite (divergence is detected by the caller).
 */
export function solveRows(system: RowSystem, from: number, to: number, scratch: Scratch): number {
  const { k, indptr, target, cgSteps } = system;
  const { x, r, p, ap } = scratch;
  let nonFinite = 0;
  for (let u = from; u < to; u++) {
    const start = indptr[u]!;
    const end = indptr[u + 1]!;
    const base = u * k;
    for (let f = 0; f < k; f++) x[f] = target[base + f]!;
    // r = b − A·x, with b = Σ c_i y_i
    applySystem(system, start, end, x, ap, true);
    for (let f = 0; f < k; f++) r[f] = -ap[f]!;
    let rsOld = 0;
    for (let f = 0; f < k; f++) {
      p[f] = r[f]!;
      rsOld += r[f]! * r[f]!;
    }
    for (let step = 0; step < cgSteps && rsOld > 1e-20; step++) {
      applySystem(system, start, end, p, ap);
      let pAp = 0;
      for (let f = 0; f < k; f++) pAp += p[f]! * ap[f]!;
      const stepSize = rsOld / pAp;
      let rsNew = 0;
      for (let f = 0; f < k; f++) {
        x[f]! += stepSize * p[f]!;
        r[f]! -= stepSize * ap[f]!;
        rsNew += r[f]! * r[f]!;
      }
      const ratio = rsNew / rsOld;
      for (let f = 0; f < k; f++) p[f] = r[f]! + ratio * p[f]!;
      rsOld = rsNew;
    }
    // A non-finite residual (Infinity confidences, NaN factors) skips the loop above: flag it too.
    let finite = Number.isFinite(rsOld);
    for (let f = 0; f < k; f++) {
      const value = x[f]!;
      if (!Number.isFinite(value)) finite = false;
      target[base + f] = value;
    }
    if (!finite) nonFinite++;
  }
  return nonFinite;
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
