/**
 * The CLI's flag values, checked before anything is sent: each problem names its flag. Plan
 * rules (increasing stages, the last at 100 %, margins) stay in parseRolloutInput; the fields it
 * names (stages[1].trafficPct) are mapped back to the flags they came from.
 */
import { DEFAULT_STAGES, type RolloutInput } from "../plan.ts";
import { CliError } from "./cli-error.ts";

const FIELD_FLAGS: [RegExp, string][] = [
  [/^stages\[\d+\]\.trafficPct$|^stages$/, "--stages"],
  [/^stages\[\d+\]\.minDurationS$/, "--min-duration"],
  [/^stages\[\d+\]\.minUsersPerArm$/, "--min-users"],
  [/^evaluationIntervalS$/, "--interval"],
  [/^webhookUrl$/, "--webhook"],
  [/^candidate(\.|$)/, "--candidate"],
  [/^baseline(\.|$)/, "--baseline"],
  [/^gates\.ctrMarginPct$/, "--ctr-margin"],
  [/^gates\.errorRateMargin$/, "--error-margin"],
  [/^reason$/, "--reason"],
];

/** "--stages (stages[1].trafficPct)" for a field the plan validation names; the field alone else. */
export function flagOfField(field: string): string {
  const flag = FIELD_FLAGS.find(([pattern]) => pattern.test(field))?.[1];
  return flag ? `${flag} (${field})` : field;
}

const bad = (flag: string, message: string): never => {
  throw new CliError(`--${flag}: ${message}`, 2);
};

/** `name@version` (the version after the last @). */
export function parseVersionRef(flag: string, value: string): { name: string; version: string } {
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1)
    bad(flag, `expected name@version (e.g. item-knn-demo@v2), got ${JSON.stringify(value)}`);
  return { name: value.slice(0, at), version: value.slice(at + 1) };
}

/** A whole number within [min, max]. */
export function parseWhole(flag: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  if (!/^\d+$/.test(value.trim()))
    bad(flag, `expected a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) bad(flag, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A decimal number within [min, max]. */
export function parseDecimal(flag: string, value: string, min: number, max: number) {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n))
    bad(flag, `expected a number, got ${JSON.stringify(value)}`);
  if (n < min || n > max) bad(flag, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** "5,50,100" → [5, 50, 100]. */
export function parseStages(value: string): number[] {
  const parts = value.split(",").map((part) => part.trim());
  const pcts = parts.map(Number);
  if (!parts.length || parts.some((part, i) => part === "" || !Number.isFinite(pcts[i]!)))
    bad(
      "stages",
      `expected percentages separated by commas (e.g. 5,50,100), got ${JSON.stringify(value)}`,
    );
  return pcts;
}

export interface StartFlags {
  candidate?: string;
  baseline?: string;
  stages?: string;
  "min-duration"?: string;
  "min-users"?: string;
  interval?: string;
  "ctr-margin"?: string;
  "error-margin"?: string;
  webhook?: string;
  reason?: string;
}

/**
 * The `start` request from its flags. Without --stages the default stages keep their own minimums
 * unless --min-duration / --min-users say otherwise; with --stages each stage gets those values
 * (or the plan's defaults).
 */
export function startRequest(flags: StartFlags): RolloutInput {
  if (!flags.candidate) bad("candidate", "is required (name@version of the version to roll out)");
  const minDurationS =
    flags["min-duration"] === undefined
      ? undefined
      : parseWhole("min-duration", flags["min-duration"]);
  const minUsersPerArm =
    flags["min-users"] === undefined ? undefined : parseWhole("min-users", flags["min-users"]);
  const overrides = {
    ...(minDurationS === undefined ? {} : { minDurationS }),
    ...(minUsersPerArm === undefined ? {} : { minUsersPerArm }),
  };
  const stages =
    flags.stages !== undefined
      ? parseStages(flags.stages).map((trafficPct) => ({ trafficPct, ...overrides }))
      : Object.keys(overrides).length
        ? DEFAULT_STAGES.map((stage) => ({ ...stage, ...overrides }))
        : undefined;
  const gates = {
    ...(flags["ctr-margin"] === undefined
      ? {}
      : { ctrMarginPct: parseDecimal("ctr-margin", flags["ctr-margin"], 0, 100) }),
    ...(flags["error-margin"] === undefined
      ? {}
      : { errorRateMargin: parseDecimal("error-margin", flags["error-margin"], 0, 1) }),
  };
  return {
    candidate: parseVersionRef("candidate", flags.candidate!),
    ...(flags.baseline ? { baseline: parseVersionRef("baseline", flags.baseline) } : {}),
    ...(stages ? { stages } : {}),
    ...(Object.keys(gates).length ? { gates } : {}),
    ...(flags.interval === undefined
      ? {}
      : { evaluationIntervalS: parseWhole("interval", flags.interval, 1, 86_400) }),
    ...(flags.webhook ? { webhookUrl: flags.webhook } : {}),
    ...(flags.reason ? { reason: flags.reason } : {}),
  };
}
