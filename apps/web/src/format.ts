export const formatCount = new Intl.NumberFormat("en-US").format;

export function formatPct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `${(value * 100).toFixed(digits)} %`;
}

export function formatSignedPct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `${value >= 0 ? "+" : ""}${(value * 100).toFixed(digits)} %`;
}

export function formatInterval(ci: [number, number] | null | undefined): string {
  if (!ci) return "–";
  return `[${formatSignedPct(ci[0])}, ${formatSignedPct(ci[1])}]`;
}

export function formatPValue(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "–";
  return p < 0.0001 ? "< 0.0001" : p.toFixed(4);
}
