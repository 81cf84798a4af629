import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../data/random.ts";
import { instantiateKernel, SharedArena } from "./cg-wasm.ts";
import { choleskySolve } from "./solver.ts";

const packageDir = fileURLToPath(new URL("../../../", import.meta.url));

describe("iALS WebAssembly kernel", () => {
  it("the committed cg.wasm is a fresh compile of assembly/ials-cg.ts", () => {
    const ascDir = dirname(createRequire(import.meta.url).resolve("assemblyscript/package.json"));
    const out = mkdtempSync(join(tmpdir(), "ials-cg-"));
    try {
      const fresh = join(out, "cg.wasm");
      const compile = spawnSync(
        process.execPath,
        [
          join(ascDir, "bin/asc.js"),
          "assembly/ials-cg.ts",
          "--config",
          "assembly/asconfig.json",
          "--target",
          "release",
          "-o",
          fresh,
        ],
        { cwd: packageDir, encoding: "utf8" },
      );
      expect(compile.stderr).toBe("");
      expect(compile.status).toBe(0);
      const committed = readFileSync(join(packageDir, "src/models/ials/cg.wasm"));
      // Rebuild with `npm run build:wasm -w packages/ml` after editing the source.
      expect(readFileSync(fresh).equals(committed)).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  for (const k of [5, 8]) {
    it(`adds each row's outer product to the upper triangle in float64 (k = ${k})`, () => {
      const rows = 7;
      const random = seededRandom(k);
      const arena = new SharedArena(SharedArena.bytes(rows * k, 4) + SharedArena.bytes(k * k, 8));
      const factors = arena.float32(rows * k);
      for (let n = 0; n < factors.length; n++) factors[n] = random.normal();
      factors[2 * k + 1] = 0; // a zero is skipped, not multiplied
      const out = arena.float64(k * k).fill(0.5); // adds to what is there
      instantiateKernel(arena.memory).accumulateGram(factors.byteOffset, k, 2, 6, out.byteOffset);
      for (let a = 0; a < k; a++)
        for (let b = a; b < k; b++) {
          let expected = 0.5;
          for (let r = 2; r < 6; r++) expected += factors[r * k + a]! * factors[r * k + b]!;
          expect(out[a * k + b]).toBe(expected);
        }
    });
  }

  // With as many CG steps as dimensions (plus margin for float32), CG reaches the exact solution
  // of the row's normal equations, assembled here term by term and solved by Cholesky in float64.
  for (const k of [6, 8]) {
    it(`solves each row's normal equations (k = ${k}, SIMD body and scalar tail)`, () => {
      const random = seededRandom(5 + k);
      const nFixed = 40;
      const regularization = 0.5;
      const alpha = 3;
      const rows = [
        { items: [0, 3, 7, 12, 39], values: [1, 2, 1, 0.5, 4] },
        { items: [], values: [] },
        { items: [5], values: [1] },
      ];
      const nnz = rows.reduce((sum, row) => sum + row.items.length, 0);
      const arena = new SharedArena(
        SharedArena.bytes(nFixed * k, 4) +
          SharedArena.bytes(k * k, 4) +
          SharedArena.bytes(rows.length + 1, 4) +
          2 * SharedArena.bytes(nnz, 4) +
          SharedArena.bytes(rows.length * k, 4) +
          SharedArena.bytes(4 * k, 4),
      );
      const fixed = arena.float32(nFixed * k);
      for (let n = 0; n < fixed.length; n++) fixed[n] = random.normal() * 0.5;
      const gram = arena.float32(k * k);
      const gram64 = new Float64Array(k * k);
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          let sum = 0;
          for (let i = 0; i < nFixed; i++) sum += fixed[i * k + a]! * fixed[i * k + b]!;
          gram64[a * k + b] = sum;
        }
      gram.set(gram64);
      const indptr = arena.int32(rows.length + 1);
      const indices = arena.int32(nnz);
      const values = arena.float32(nnz);
      rows.forEach((row, u) => {
        indices.set(row.items, indptr[u]!);
        values.set(row.values, indptr[u]!);
        indptr[u + 1] = indptr[u]! + row.items.length;
      });
      const target = arena.float32(rows.length * k);
      for (let n = 0; n < target.length; n++) target[n] = random.normal() * 0.1;
      const scratch = arena.float32(4 * k);

      const { solveRows } = instantiateKernel(arena.memory);
      const nonFinite = solveRows(
        k,
        regularization,
        alpha,
        3 * k,
        gram.byteOffset,
        fixed.byteOffset,
        indptr.byteOffset,
        indices.byteOffset,
        values.byteOffset,
        target.byteOffset,
        0,
        rows.length,
        scratch.byteOffset,
      );
      expect(nonFinite).toBe(0);

      rows.forEach((row, u) => {
        const a = Float64Array.from(gram64);
        for (let f = 0; f < k; f++) a[f * k + f]! += regularization;
        const b = new Float64Array(k);
        row.items.forEach((item, n) => {
          const weight = alpha * row.values[n]!;
          for (let f = 0; f < k; f++) {
            b[f]! += (1 + weight) * fixed[item * k + f]!;
            for (let g = 0; g < k; g++)
              a[f * k + g]! += weight * fixed[item * k + f]! * fixed[item * k + g]!;
          }
        });
        const exact = choleskySolve(a, b, k);
        const scale = Math.max(...Array.from(exact, Math.abs));
        for (let f = 0; f < k; f++) {
          expect(Math.abs(target[u * k + f]! - exact[f]!)).toBeLessThan(1e-4 * Math.max(1, scale));
        }
      });
    });
  }
});
