/** MODEL_CARD.md generated from metadata.json, so the card never disagrees with the artifact. */
import type { ArtifactMetadata } from "./metadata.ts";

const INTENDED: Record<ArtifactMetadata["kind"], string> = {
  factors:
    "Personalised top-K recommendations for users seen in training (by index) and for new users whose vector is solved by fold-in from a few recent interactions.",
  "item-item":
    "Personalised top-K recommendations from a user's item history (training history or recent items); also 'more like this' from a single item.",
  popularity:
    "Cold-start answer for unknown users and the fallback whenever a personalised model fails; per-context rows when events carry context.",
};

const LIMITS: Record<ArtifactMetadata["kind"], string[]> = {
  factors: [
    "Users unseen in training need fold-in; items unseen in training can never be recommended.",
    "Implicit-feedback model: scores rank items, they are not ratings or probabilities.",
  ],
  "item-item": [
    "Items without neighbours in the training data are never recommended; a user with no history gets nothing (fall back to popularity).",
    "Only the top neighbours of each item are kept, so long-tail similarities are truncated.",
  ],
  popularity: [
    "Not personalised: every user in a context sees the same ranking, minus items they have already seen.",
  ],
};

function cell(v: unknown): string {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.replaceAll("|", "\\|");
}

function metricsTable(metrics: Record<string, number>): string {
  // Rows are metric names, columns the cut-offs: "ndcg@10" → row ndcg, column 10.
  const rows = new Map<string, Map<string, number>>();
  const cuts = new Set<string>();
  for (const [key, value] of Object.entries(metrics)) {
    const [name, cut = ""] = key.split("@");
    cuts.add(cut);
    if (!rows.has(name!)) rows.set(name!, new Map());
    rows.get(name!)!.set(cut, value);
  }
  if (rows.size === 0) return "_No offline evaluation was run for this version._";
  const cols = [...cuts].sort((a, b) => Number(a) - Number(b));
  const head = `| metric | ${cols.map((c) => (c ? `@${c}` : "value")).join(" | ")} |`;
  const rule = `|---|${cols.map(() => "---:").join("|")}|`;
  const body = [...rows].map(
    ([name, byCut]) =>
      `| ${name} | ${cols.map((c) => (byCut.has(c) ? byCut.get(c)!.toFixed(4) : "")).join(" | ")} |`,
  );
  return [head, rule, ...body].join("\n");
}

/** The card's line saying what the served parameters were fitted on. */
function fittedLine(m: ArtifactMetadata): string {
  const all = `${m.data.nInteractions} interactions from ${m.data.nUsers} users on ${m.data.nItems} items`;
  if (m.fittedOn === "all")
    return `Fitted on all ${all}${m.evaluation ? ", refit with the same parameters and seed after the held-out evaluation below" : ""}.`;
  if (m.fittedOn === "train")
    return `Fitted on the train side of the evaluation split only: ${all}; the held-out events never informed it.`;
  return `${all}.`;
}

/** The card's line saying how the offline metrics were obtained, and on what. */
function evaluationLine(m: ArtifactMetadata): string {
  const e = m.evaluation;
  if (!e) return "";
  const protocol = Object.entries(e)
    .map(([k, v]) => `${k}=${cell(v)}`)
    .join(", ");
  const sides =
    typeof e.trainInteractions === "number" && typeof e.testEvents === "number"
      ? ` Held-out evaluation: a copy fitted on ${e.trainInteractions} train interactions, scored on ${e.testEvents} held-out events${m.fittedOn === "all" ? "; the served parameters were then fitted on all the data" : ""}.`
      : "";
  const counted =
    e.evaluationProtocol === "field"
      ? " Field protocol: test items never seen in train count as misses (comparable with published tables)."
      : e.evaluationProtocol === "drop-unrankable"
        ? " Drop-unrankable protocol: test items never seen in train were left out of the metrics (not comparable with published tables)."
        : "";
  return `\nProtocol: ${protocol}.${sides}${counted}\n`;
}

export function renderModelCard(m: ArtifactMetadata): string {
  const params = Object.entries(m.hyperparameters);
  return `# Model card: ${m.name} ${m.version}

| | |
|---|---|
| algorithm | ${m.algorithm} |
| artifact kind | ${m.kind} (ONNX opset ${m.onnx.opset}) |
| created | ${m.createdAt} |
| users × items | ${m.shape.nUsers} × ${m.shape.nItems}${m.shape.factors ? `, ${m.shape.factors} factors` : ""} |
| model.onnx sha256 | \`${m.files["model.onnx"]?.sha256 ?? "?"}\` |

## Data
- Source: ${cell(m.data.source)}
- Time range: ${m.data.from ?? "unknown"} → ${m.data.to ?? "unknown"}
- ${fittedLine(m)}

## Parameters
${params.length === 0 ? "_defaults_" : ["| parameter | value |", "|---|---|", ...params.map(([k, v]) => `| ${k} | ${cell(v)} |`)].join("\n")}

## Offline metrics
${metricsTable(m.metrics)}
${evaluationLine(m)}
## Intended use
${INTENDED[m.kind]}

## Limitations
${LIMITS[m.kind].map((l) => `- ${l}`).join("\n")}
- Trained on historical interactions: it reproduces their biases (popular items, active users) and drifts as the catalogue changes; retrain and compare before promoting.
- Offline metrics on a random holdout overstate online gains; promote through canary stages.

## Inputs and outputs
${[...m.onnx.inputs.map((t) => `- input \`${t.name}\` ${t.type} [${t.shape.join(", ")}]`), ...m.onnx.outputs.map((t) => `- output \`${t.name}\` ${t.type} [${t.shape.join(", ")}]`)].join("\n")}

Export check: ONNX vs TypeScript reference on ${m.exportCheck.requests} requests, max |difference| ${m.exportCheck.maxAbsDiff.toExponential(2)}.
`;
}
