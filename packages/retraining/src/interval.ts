import { BadInput } from "@reco/contracts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * RETRAIN_INTERVAL: `6h`, `30m`, `90s`, `1d`, `500ms`, or a bare number of seconds; `0` or `off`
 * disables the schedule (null). Anything else is a BadInput naming the variable and the value.
 */
export function parseRetrainInterval(
  text: string | undefined,
  name = "RETRAIN_INTERVAL",
): number | null {
  const value = (text ?? "6h").trim().toLowerCase();
  if (value === "off" || value === "0") return null;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value);
  if (!match)
    throw new BadInput(
      `${name}: "${text}" is not an interval (e.g. 6h, 30m, 90s, 1d; 0 or off disables)`,
    );
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? "s"]!;
  if (ms === 0) return null;
  if (ms < 1_000) throw new BadInput(`${name}: "${text}" is shorter than one second`);
  return Math.round(ms);
}
