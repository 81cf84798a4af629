import { readFileSync } from "node:fs";
import { expect } from "vitest";

/**
 * Tolerance of the reference comparison: 1e-6 relative, so tiny p-values and risks are held to six
 * significant digits too; the 1e-12 absolute floor only matters for values that are ~0 (a zero
 * uplift, an interval end crossing 0).
 */
export const TOLERANCE = 1e-6;
const ABSOLUTE_FLOOR = 1e-12;

export function loadFixture<T>(name: string): T[] {
  const file = new URL(`./fixtures/${name}.json`, import.meta.url);
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { cases: T[] };
  if (!Array.isArray(parsed.cases) || parsed.cases.length === 0)
    throw new Error(`fixture ${name}.json has no cases`);
  return parsed.cases;
}

export function expectClose(
  actual: number,
  expected: number,
  label: string,
  tolerance = TOLERANCE,
): void {
  if (!Number.isFinite(expected)) {
    expect(actual, label).toBe(expected);
    return;
  }
  const error = Math.abs(actual - expected);
  const allowed = tolerance * Math.abs(expected) + ABSOLUTE_FLOOR;
  expect(
    error <= allowed,
    `${label}: got ${actual}, reference ${expected} (|Δ| = ${error.toExponential(2)})`,
  ).toBe(true);
}

export function expectAllClose(actual: number[], expected: number[], label: string): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => expectClose(actual[i]!, e, `${label}[${i}]`));
}
