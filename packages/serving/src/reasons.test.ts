import { readFile } from "node:fs/promises";
import { AppError, errorFields, errorFromFields } from "@reco/contracts";
import { ArtifactCorrupt, ModelVersionMissing } from "@reco/ml";
import { describe, expect, it } from "vitest";
import { FALLBACK_REASONS, isFallbackReason } from "./reasons.ts";
import { ModelResolutionFailed } from "./resolver.ts";
import { fallbackReason, StrategyError } from "./strategies/index.ts";

/** The reasons of the README's "Fallback reasons" table (its rows' first cells), in order. */
async function documentedReasons(): Promise<string[]> {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.split(/^## Fallback reasons$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) throw new Error('README.md has no "## Fallback reasons" section');
  const rows = section.split("\n").filter((line) => line.startsWith("|"));
  expect(rows[0]).toMatch(/^\| reason \| meaning \|$/);
  return rows.slice(2).map((row) => {
    const code = /^\| `([a-z_]+)` \| \S/.exec(row)?.[1];
    if (code === undefined) throw new Error(`README.md fallback reason row not understood: ${row}`);
    return code;
  });
}

describe("fallback reasons", () => {
  it("every reason in FALLBACK_REASONS is documented in the README's table, and the table lists no other", async () => {
    const documented = await documentedReasons();
    const catalogued = Object.keys(FALLBACK_REASONS);
    expect(catalogued.filter((reason) => !documented.includes(reason))).toEqual([]);
    expect(documented.filter((reason) => !catalogued.includes(reason))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
    for (const description of Object.values(FALLBACK_REASONS)) expect(description).not.toBe("");
  });

  it("fallbackReason reads the error's stable reason: the registry's errors, the resolver's wrapper, strategies' own", () => {
    expect(fallbackReason(new ArtifactCorrupt("/registry/m/v1", "model.onnx sha256 …"))).toBe(
      "model_corrupt",
    );
    expect(fallbackReason(new ModelVersionMissing("m", "v1"))).toBe("model_missing");
    const down = new Error("database down");
    const resolverFailure = new ModelResolutionFailed(down);
    expect(fallbackReason(resolverFailure)).toBe("resolver_error");
    expect(resolverFailure.cause).toBe(down); // wrapped, not renamed
    expect(down.name).toBe("Error");
    expect(fallbackReason(new StrategyError("empty_result", "nothing left"))).toBe("empty_result");
    // A custom strategy may name its own code.
    expect(fallbackReason(new StrategyError("feed_down", "editorial feed unreachable"))).toBe(
      "feed_down",
    );
    for (const reason of Object.keys(FALLBACK_REASONS)) {
      expect(isFallbackReason(reason)).toBe(true);
      expect(fallbackReason(new AppError("INTERNAL", "x", undefined, { reason }))).toBe(reason);
    }
  });

  it("never classifies on names: an error without a catalogued reason is an inference_error", () => {
    const named = (name: string) => Object.assign(new Error("x"), { name });
    for (const name of ["ArtifactCorrupt", "ModelVersionMissing", "ResolverError", "StrategyError"])
      expect(fallbackReason(named(name))).toBe("inference_error");
    // Another package's reason is not a fallback label of its own.
    const other = new AppError("CONFLICT", "x", undefined, { reason: "version_exists" });
    expect(fallbackReason(other)).toBe("inference_error");
    expect(isFallbackReason("version_exists")).toBe(false);
    expect(isFallbackReason("toString")).toBe(false);
    for (const thrown of [new Error("session crashed"), "text", undefined, null])
      expect(fallbackReason(thrown)).toBe("inference_error");
  });

  it("an error rebuilt from its fields (as the inference thread sends it) keeps its classification", () => {
    const rebuilt = errorFromFields(structuredClone(errorFields(new ArtifactCorrupt("/d", "bad"))));
    expect(rebuilt).not.toBeInstanceOf(ArtifactCorrupt);
    expect(fallbackReason(rebuilt)).toBe("model_corrupt");
  });
});
