// AssemblyScript types (f32, usize, v128) and builtins (load, store) are not TypeScript's: asc
// type-checks this file, the root tsc (which includes every package's .ts) must not.
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck
// AssemblyScript source of packages/ml/src/models/ials/cg.wasm (build: npm run build:wasm -w
// packages/ml). The iALS conjugate-gradient row update (see ../src/models/ials/solver.ts) in float32
// with f32x4 SIMD, as `implicit` does. Arguments are byte offsets into the shared memory the
// threads import; every row is computed in one fixed order, so factors do not depend on which
// thread takes it.

function dot(a: usize, b: usize, k: i32, k4: i32): f32 {
  let acc = f32x4.splat(0);
  let f = 0;
  for (; f < k4; f += 4) {
    const offset = (<usize>f) << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + offset), v128.load(b + offset)));
  }
  let sum: f32 =
    f32x4.extract_lane(acc, 0) +
    f32x4.extract_lane(acc, 1) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; f < k; f++) {
    const offset = (<usize>f) << 2;
    sum += load<f32>(a + offset) * load<f32>(b + offset);
  }
  return sum;
}

/** out += scale · y */

function axpy(out: usize, scale: f32, y: usize, k: i32, k4: i32): void {
  const splat = f32x4.splat(scale);
  let f = 0;
  for (; f < k4; f += 4) {
    const offset = (<usize>f) << 2;
    v128.store(
      out + offset,
      f32x4.add(v128.load(out + offset), f32x4.mul(splat, v128.load(y + offset))),
    );
  }
  for (; f < k; f++) {
    const offset = (<usize>f) << 2;
    store<f32>(out + offset, load<f32>(out + offset) + scale * load<f32>(y + offset));
  }
}

/**
 * out = (G + λI)v + Σ_e alpha·v_e (y_e·v) y_e over the row's entries [start, end); with
 * `minusRhs`, minus b = Σ_e (1 + alpha·v_e) y_e in the same pass.
 */

function applySystem(
  k: i32,
  k4: i32,
  gram: usize,
  regularization: f32,
  alpha: f32,
  fixed: usize,
  indices: usize,
  values: usize,
  start: i32,
  end: i32,
  v: usize,
  out: usize,
  minusRhs: bool,
): void {
  const rowBytes = (<usize>k) << 2;
  for (let a = 0; a < k; a++) {
    const offset = (<usize>a) << 2;
    store<f32>(
      out + offset,
      regularization * load<f32>(v + offset) + dot(gram + <usize>a * rowBytes, v, k, k4),
    );
  }
  for (let e = start; e < end; e++) {
    const y = fixed + <usize>load<i32>(indices + ((<usize>e) << 2)) * rowBytes;
    const weight = alpha * load<f32>(values + ((<usize>e) << 2));
    let scale = weight * dot(y, v, k, k4);
    if (minusRhs) scale -= 1 + weight;
    axpy(out, scale, y, k, k4);
  }
}

/**
 * Updates rows [from, to) of `target` with `cgSteps` conjugate-gradient steps warm-started from
 * the current factors; `scratch` holds 4·k floats of this thread's. Returns the number of rows that
 * came out non-finite.
 */
export function solveRows(
  k: i32,
  regularization: f32,
  alpha: f32,
  cgSteps: i32,
  gram: usize,
  fixed: usize,
  indptr: usize,
  indices: usize,
  values: usize,
  target: usize,
  from: i32,
  to: i32,
  scratch: usize,
): i32 {
  const k4 = k & ~3;
  const bytes = (<usize>k) << 2;
  const x = scratch;
  const r = x + bytes;
  const p = r + bytes;
  const ap = p + bytes;
  let nonFinite = 0;
  for (let u = from; u < to; u++) {
    const start = load<i32>(indptr + ((<usize>u) << 2));
    const end = load<i32>(indptr + ((<usize>u + 1) << 2));
    const row = target + <usize>u * bytes;
    memory.copy(x, row, bytes);
    // r = b − A·x
    applySystem(
      k,
      k4,
      gram,
      regularization,
      alpha,
      fixed,
      indices,
      values,
      start,
      end,
      x,
      ap,
      true,
    );
    let rsOld: f32 = 0;
    for (let f = 0; f < k; f++) {
      const offset = (<usize>f) << 2;
      const residual = -load<f32>(ap + offset);
      store<f32>(r + offset, residual);
      store<f32>(p + offset, residual);
      rsOld += residual * residual;
    }
    for (let step = 0; step < cgSteps && rsOld > 1e-20; step++) {
      applySystem(
        k,
        k4,
        gram,
        regularization,
        alpha,
        fixed,
        indices,
        values,
        start,
        end,
        p,
        ap,
        false,
      );
      const stepSize = rsOld / dot(p, ap, k, k4);
      let rsNew: f32 = 0;
      for (let f = 0; f < k; f++) {
        const offset = (<usize>f) << 2;
        store<f32>(x + offset, load<f32>(x + offset) + stepSize * load<f32>(p + offset));
        const residual = load<f32>(r + offset) - stepSize * load<f32>(ap + offset);
        store<f32>(r + offset, residual);
        rsNew += residual * residual;
      }
      const ratio = rsNew / rsOld;
      for (let f = 0; f < k; f++) {
        const offset = (<usize>f) << 2;
        store<f32>(p + offset, load<f32>(r + offset) + ratio * load<f32>(p + offset));
      }
      rsOld = rsNew;
    }
    // A non-finite residual (Infinity confidences, NaN factors) skips the loop above: flag it too.
    let finite = isFinite<f32>(rsOld);
    for (let f = 0; f < k; f++) {
      if (!isFinite<f32>(load<f32>(x + ((<usize>f) << 2)))) finite = false;
    }
    memory.copy(row, x, bytes);
    if (!finite) nonFinite++;
  }
  return nonFinite;
}

/**
 * Adds Σ_r f_r f_rᵀ over rows [from, to) of `factors` into `out` (k × k float64): the upper
 * triangle, plus the entry left of the diagonal on odd rows (pairs start even); only the upper
 * triangle is read. Products of two float32 are exact in float64 and each entry sums its rows in
 * order, so this equals the TypeScript accumulateGram of solver.ts bit for bit.
 */
export function accumulateGram(factors: usize, k: i32, from: i32, to: i32, out: usize): void {
  const rowBytes = (<usize>k) << 2;
  for (let r = from; r < to; r++) {
    const row = factors + <usize>r * rowBytes;
    for (let a = 0; a < k; a++) {
      const fa = <f64>load<f32>(row + ((<usize>a) << 2));
      if (fa == 0) continue;
      const splat = f64x2.splat(fa);
      const outRow = out + ((<usize>a * <usize>k) << 3);
      let b = a & ~1;
      for (; b + 2 <= k; b += 2) {
        const at = outRow + ((<usize>b) << 3);
        const pair = f64x2.promote_low_f32x4(v128.load64_zero(row + ((<usize>b) << 2)));
        v128.store(at, f64x2.add(v128.load(at), f64x2.mul(splat, pair)));
      }
      for (; b < k; b++) {
        const at = outRow + ((<usize>b) << 3);
        store<f64>(at, load<f64>(at) + fa * <f64>load<f32>(row + ((<usize>b) << 2)));
      }
    }
  }
}
