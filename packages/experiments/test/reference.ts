import { readFileSync } from "node:fs";
import { expect } from "vitest";

/** Tolerance of the reference comparison: 1e-6, relative for magnitudes above 1. */
export const TOLERANCE = 1e-6;

export function loadFixture<T>(name: string): T[] {
  const file = new URL(`./fixtures/${name}.json`, import.meta.url);
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { cases: T[] };
  if (!Array.isArray(parsed.cases) || parsed.cases.length === 0)
    throw new Error(`fixture ${name}.json has no cases`);
  return parsed.cases;
}

export function expectClose(actual: number, expected: number, label: string): void {
  const error = Math.abs(actual - expected);
  const allowed = TOLERANCE * Math.max(1, Math.abs(expected));
  expect(
    error <= allowed,
    `${label}: got ${actual}, reference ${expected} (|Δ| = ${error.toExponential(2)})`,
  ).toBe(true);
}

export function expectAllClose(actual: number[], expected: number[], label: string): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => expectClose(actual[i]!, e, `${label}[${i}]`));
}
