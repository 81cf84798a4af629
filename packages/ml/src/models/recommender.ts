import type { Interactions } from "../data/interactions.ts";
import type { ModelParams } from "../params.ts";
import { InvalidHyperParameter } from "./errors.ts";

/** A numeric hyper-parameter: its default, valid range and what it does (for --help and tuning). */
export interface ParameterSpec {
  default: number;
  min: number;
  max: number;
  integer?: boolean;
  /** the range hyper-parameter search samples from; absent = not tuned (kept at its value) */
  search?: [number, number];
  /** search on a log scale when tuning */
  logScale?: boolean;
  /**
   * A categorical parameter: its value is the index of one of these names (so `integer`, min 0,
   * max choices.length - 1); the CLI and resolveParameters accept the name as well as the index.
   */
  choices?: readonly string[];
  help: string;
}

export type HyperParameters = Record<string, number>;

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  elapsedMs: number;
}

export interface FitHooks {
  /** called after each epoch (iterative models) or once at the end */
  onProgress?: (progress: TrainingProgress) => void;
}

/**
 * What every recommender implements. `fit` reduces training data to one of the exchange
 * shapes in params.ts; scoring those shapes is shared (score.ts), so serving never needs to know
 * which algorithm produced them.
 */
export interface Recommender {
  kind: string;
  summary: string;
  parameters: Record<string, ParameterSpec>;
  /** `params` holds every parameter (use resolveParameters to fill defaults and validate) */
  fit(train: Interactions, params: HyperParameters, hooks?: FitHooks): Promise<ModelParams>;
}

/** Defaults filled in; unknown names and out-of-range or non-numeric values are refused. */
export function resolveParameters(
  recommender: Recommender,
  given: Record<string, unknown> = {},
): HyperParameters {
  const resolved: HyperParameters = {};
  for (const name of Object.keys(given)) {
    if (!(name in recommender.parameters)) {
      const known = Object.keys(recommender.parameters).join(", ") || "none";
      throw new InvalidHyperParameter(recommender.kind, name, `is unknown (known: ${known})`);
    }
  }
  for (const [name, spec] of Object.entries(recommender.parameters)) {
    const raw = given[name];
    const choice = typeof raw === "string" ? (spec.choices?.indexOf(raw.trim()) ?? -1) : -1;
    const value =
      raw === undefined
        ? spec.default
        : choice >= 0
          ? choice
          : typeof raw === "string"
            ? Number(raw)
            : raw;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      const expected = spec.choices
        ? `one of ${spec.choices.join(", ")} (or its index)`
        : "a number";
      throw new InvalidHyperParameter(
        recommender.kind,
        name,
        `must be ${expected}, got ${JSON.stringify(raw)}`,
      );
    }
    if (value < spec.min || value > spec.max) {
      throw new InvalidHyperParameter(
        recommender.kind,
        name,
        `must be in [${spec.min}, ${spec.max}], got ${value}`,
      );
    }
    if (spec.integer && !Number.isInteger(value)) {
      throw new InvalidHyperParameter(recommender.kind, name, `must be an integer, got ${value}`);
    }
    resolved[name] = value;
  }
  return resolved;
}

/** A categorical parameter from its name list: index 0 is the default unless told otherwise. */
export function choiceParameter(
  choices: readonly string[],
  help: string,
  options: { default?: number; search?: boolean } = {},
): ParameterSpec {
  return {
    default: options.default ?? 0,
    min: 0,
    max: choices.length - 1,
    integer: true,
    choices,
    ...(options.search === false ? {} : { search: [0, choices.length - 1] as [number, number] }),
    help: `${help} (${choices.map((c, i) => `${i} = ${c}`).join(", ")})`,
  };
}

/** The name of a categorical parameter's value (the index itself when the spec has no names). */
export function choiceName(spec: ParameterSpec, value: number): string {
  return spec.choices?.[value] ?? String(value);
}
