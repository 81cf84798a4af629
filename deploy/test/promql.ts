/**
 * The metric names a PromQL expression reads, and the expressions of a rules file and a Grafana
 * dashboard. A small scanner rather than a parser: the rules and dashboard are ours, and
 * metrics-exist.test.ts checks it on hand-written expressions and counts the rules it found
 * against promtool's own count.
 */

const FUNCTIONS_AND_KEYWORDS = new Set([
  // aggregation operators and their modifiers
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
  "limitk",
  "limit_ratio",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "atan2",
  // literals
  "inf",
  "nan",
]);

/** Metric names selected in `expr` (bare or with `{…}` matchers), without duplicates. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range and subquery durations
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
    .replace(/\boffset\s+-?\w+/g, " ")
    .replace(/(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w:])/gi, " "); // numbers
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice(match.index! + word.length).trimStart();
    if (after.startsWith("(")) continue; // a function call
    if (FUNCTIONS_AND_KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/**
 * The `expr:` values of a Prometheus rules file as written here: inline (`expr: a > 1`) or a block
 * scalar (`expr: |` and the lines indented under it).
 */
export function ruleExpressions(yamlText: string): string[] {
  const lines = yamlText.split("\n");
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)(?:-\s+)?expr:\s*(.*)$/.exec(lines[i]!);
    if (!match) continue;
    const indent = match[1]!.length;
    const inline = match[2]!.trim();
    if (inline !== "|" && inline !== ">" && inline !== "|-" && inline !== ">-") {
      exprs.push(inline.replace(/^'(.*)'$|^"(.*)"$/, "$1$2"));
      continue;
    }
    const body: string[] = [];
    while (i + 1 < lines.length) {
      const next = lines[i + 1]!;
      if (next.trim() !== "" && next.length - next.trimStart().length <= indent) break;
      body.push(next.trim());
      i++;
    }
    exprs.push(body.join(" ").trim());
  }
  return exprs;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every target expression of a Grafana dashboard's panels (rows' nested panels included). */
export function dashboardExpressions(dashboard: { panels?: Panel[] }): string[] {
  const exprs: string[] = [];
  const walk = (panels: Panel[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return exprs;
}

/**
 * Names a Prometheus text exposition offers for queries: each `# TYPE` family, and for histograms
 * and summaries the series PromQL reads (`_bucket`, `_sum`, `_count`). Families without samples
 * (labelled metrics nothing has observed yet) are listed too: they exist, and fill with traffic.
 */
export function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) names.add(name + s);
  }
  return names;
}
