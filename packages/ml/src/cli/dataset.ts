/**
 * Loads what a command trains and evaluates on: a delimited file or Parquet snapshots split by the
 * chosen protocol, or an explicit train/test pair. Malformed rows stop the command (with line
 * numbers) unless --skip-malformed; test users/items unseen in train are counted and reported.
 */
import { BadInput } from "@reco/contracts";
import { z } from "zod";
import {
  type ConfidenceMode,
  type InteractionLog,
  type Interactions,
  type LoadReport,
  type Split,
  buildInteractions,
  coldItemSplit,
  describeProblems,
  isItemUnavailable,
  itemContentFor,
  leaveLastN,
  loadCatalogSnapshot,
  loadDelimited,
  loadExplicitSplit,
  loadItemDescriptions,
  loadSnapshots,
  randomHoldout,
  type CatalogSnapshot,
  temporalSplit,
} from "../data/index.ts";
import type { ArtifactMetadata } from "../registry/metadata.ts";
import type { OptionSpec } from "./args.ts";

export const datasetOptions: Record<string, OptionSpec> = {
  data: {
    type: "string",
    value: "FILE",
    help: "interactions file: userId,itemId[,rating][,timestamp] (comma/tab/space)",
  },
  snapshots: {
    type: "string",
    value: "DIR",
    help: "Parquet snapshot directory instead of --data; its catalog snapshot (DIR/catalog/) describes the items and leaves deleted ones out; object:snapshots/ reads the snapshots the stream worker uploaded to the S3 bucket (S3_* set)",
  },
  train: { type: "string", value: "FILE", help: "explicit train file (with --test)" },
  test: { type: "string", value: "FILE", help: "explicit test file (with --train)" },
  split: {
    type: "string",
    value: "KIND",
    help: "random (per-user holdout, default) | temporal | last-n | none",
  },
  "test-fraction": {
    type: "string",
    value: "F",
    help: "share of each user's items held out (default 0.2)",
  },
  "last-n": {
    type: "string",
    value: "N",
    help: "items per user held out by --split last-n (default 1)",
  },
  seed: {
    type: "string",
    value: "N",
    help: "seed of the random split and of training (default 42)",
  },
  threshold: {
    type: "string",
    value: "R",
    help: "ratings below R are not positives (unrated events always are)",
  },
  confidence: { type: "string", value: "MODE", help: "binary (default) | rating | count" },
  "skip-malformed": { type: "boolean", help: "skip malformed rows (reported) instead of stopping" },
  items: {
    type: "string",
    value: "FILE",
    help: "item catalogue CSV (id column, title, genres|categories, tags; lists split by | or ;) for the content and hybrid models (default with --snapshots: its catalog snapshot)",
  },
  "cold-items": {
    type: "string",
    value: "F",
    help: "cold-item protocol: hold this seeded share of the items out of training entirely; test = their events",
  },
  "drop-unrankable-test-items": {
    type: "boolean",
    help: "leave test items never seen in train out of recall/NDCG (default: the field protocol counts them as misses)",
  },
};

const number = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .refine(Number.isFinite, `${what} must be finite`);

export const datasetSchema = z.object({
  data: z.string().optional(),
  snapshots: z.string().optional(),
  train: z.string().optional(),
  test: z.string().optional(),
  split: z.enum(["random", "temporal", "last-n", "none"]).default("random"),
  testFraction: number("test fraction").pipe(z.number().gt(0).lt(1)).default(0.2),
  lastN: number("last-n").pipe(z.number().int().min(1)).default(1),
  seed: number("seed").pipe(z.number().int()).default(42),
  threshold: number("threshold").optional(),
  confidence: z.enum(["binary", "rating", "count"]).default("binary"),
  skipMalformed: z.boolean().default(false),
  dropUnrankableTestItems: z.boolean().default(false),
  items: z.string().optional(),
  coldItems: number("cold-items").pipe(z.number().gt(0).lt(1)).optional(),
});
export type DatasetOptions = z.infer<typeof datasetSchema>;

export interface Dataset {
  train: Interactions;
  /** held-out events in the train set's indices (absent with --split none) */
  test?: InteractionLog;
  /** an explicit test file's events whose item is absent from train (users in train indices) */
  unseenTestItems?: InteractionLog;
  /**
   * Every event of the source before the split (same indices as `train`), for a refit on all of
   * it after the evaluation; absent with --split none (train is all of it already) and with an
   * explicit --train/--test pair.
   */
  all?: InteractionLog;
  data: ArtifactMetadata["data"];
  protocol: Record<string, unknown>;
  /** lines worth showing the user (skipped rows, unseen ids) */
  notes: string[];
  /**
   * With --snapshots and a catalog snapshot beside the events: its deleted items (their events
   * were left out, so no model can recommend them) and the train items unavailable at load time
   * (kept: serving hides them while unavailable, and their window may open after training).
   */
  catalog?: { items: number; deleted: string[]; unavailable: string[] };
}

function checkMalformed(report: LoadReport, skip: boolean, notes: string[]): void {
  if (report.malformed === 0) return;
  const lines = describeProblems(report);
  if (!skip) {
    const first = lines.slice(0, 3).join("; ");
    throw new BadInput(
      `${report.source}: ${report.malformed} malformed row${report.malformed > 1 ? "s" : ""} (${first}${lines.length > 3 ? "; …" : ""}); fix them or pass --skip-malformed`,
    );
  }
  notes.push(
    `skipped ${report.malformed} malformed rows of ${report.source}`,
    ...lines.slice(0, 10),
  );
}

function timeRange(log: InteractionLog): { from: string | null; to: string | null } {
  let min = Infinity;
  let max = -Infinity;
  for (let n = 0; n < log.length; n++) {
    const t = log.time[n]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const iso = (s: number) => (Number.isFinite(s) ? new Date(s * 1000).toISOString() : null);
  return { from: iso(min), to: iso(max) };
}

export function describeSources(o: DatasetOptions): string {
  return o.train ? `${o.train} + ${o.test}` : (o.data ?? o.snapshots ?? "?");
}

export async function loadDataset(
  o: DatasetOptions,
  { needTest }: { needTest: boolean },
): Promise<Dataset> {
  const sources = [o.data, o.snapshots, o.train].filter(Boolean).length;
  if (sources !== 1 || Boolean(o.train) !== Boolean(o.test)) {
    throw new BadInput(
      "give exactly one data source: --data FILE, --snapshots DIR, or --train FILE --test FILE",
    );
  }
  if (o.coldItems !== undefined && o.train) {
    throw new BadInput(
      "--cold-items splits one source (--data or --snapshots), not a --train/--test pair",
    );
  }
  const notes: string[] = [];
  let split: Split | { train: InteractionLog; test?: InteractionLog };
  let protocol: Record<string, unknown>;
  let all: InteractionLog | undefined;
  let unseenTestItems: InteractionLog | undefined;
  let catalog: CatalogSnapshot | null = null;
  const deleted = new Set<string>();
  if (o.train && o.test) {
    const explicit = await loadExplicitSplit(o.train, o.test);
    checkMalformed(explicit.report.train, o.skipMalformed, notes);
    checkMalformed(explicit.report.test, o.skipMalformed, notes);
    const a = explicit.report.alignment;
    if (a.unseenUsers + a.unseenItems > 0) {
      notes.push(
        `test set: ${a.unseenUsers} users and ${a.unseenItems} items unseen in train; ${a.droppedEvents} test events cannot be ranked (${explicit.unseenTestItems.length} of them, of users known in train, ${o.dropUnrankableTestItems ? "left out (--drop-unrankable-test-items)" : "count as misses (field protocol)"}; events of unseen users are left out)`,
      );
    }
    split = explicit;
    unseenTestItems = explicit.unseenTestItems;
    protocol = { split: "explicit", train: o.train, test: o.test, ...a };
  } else {
    let log: InteractionLog;
    if (o.data) {
      const loaded = await loadDelimited(o.data);
      checkMalformed(loaded.report, o.skipMalformed, notes);
      log = loaded.log;
    } else {
      // The worker's catalog snapshot: what the items are now (content, deletions, availability).
      catalog = await loadCatalogSnapshot(o.snapshots!);
      for (const [id, item] of catalog?.items ?? []) if (item.deletedAt !== null) deleted.add(id);
      log = (await loadSnapshots(o.snapshots!, { excludeItems: deleted })).log;
      if (log.length === 0) throw new BadInput(`${o.snapshots} holds no interaction events`);
    }
    const kind = needTest && o.split === "none" ? "random" : o.split;
    if (kind !== "none" || o.coldItems !== undefined) all = log;
    if (o.coldItems !== undefined)
      split = coldItemSplit(log, { fraction: o.coldItems, seed: o.seed });
    else if (kind === "none") split = { train: log };
    else if (kind === "random")
      split = randomHoldout(log, { testFraction: o.testFraction, seed: o.seed });
    else if (kind === "temporal") split = temporalSplit(log, { testFraction: o.testFraction });
    else split = leaveLastN(log, { n: o.lastN });
    protocol =
      o.coldItems !== undefined
        ? { split: "cold-items", fraction: o.coldItems, seed: o.seed }
        : {
            split: kind,
            ...(kind === "random" ? { testFraction: o.testFraction, seed: o.seed } : {}),
            ...(kind === "temporal" ? { testFraction: o.testFraction } : {}),
            ...(kind === "last-n" ? { n: o.lastN } : {}),
          };
  }
  const train = buildInteractions(split.train, {
    threshold: o.threshold,
    confidence: o.confidence as ConfidenceMode,
  });
  // An explicit --items file wins over the catalog snapshot.
  if (o.items || catalog) {
    const descriptions = o.items ? await loadItemDescriptions(o.items) : catalog!.items;
    train.itemContent = itemContentFor(train.ids.items, descriptions);
    const described = train.itemContent.features.filter((tokens) => tokens.length > 0).length;
    notes.push(
      `items: ${described} of ${train.nItems} items described by ${o.items ?? `the catalog snapshot under ${o.snapshots}`}`,
    );
  }
  let catalogReport: Dataset["catalog"];
  if (catalog) {
    const now = Date.now() / 1000;
    const unavailable = train.ids.items.filter((id) => {
      const item = catalog.items.get(id);
      return item !== undefined && isItemUnavailable(item, now);
    });
    catalogReport = { items: catalog.items.size, deleted: [...deleted].sort(), unavailable };
    notes.push(
      `catalog snapshot: ${catalog.items.size} items, ${deleted.size} deleted (their events left out of training), ${unavailable.length} trained items unavailable now (kept; serving hides them while unavailable)`,
    );
  }
  if (train.userItems.indptr[train.nUsers] === 0) {
    throw new BadInput(
      `the train set is empty${o.threshold !== undefined ? ` (no rating reaches --threshold ${o.threshold})` : ""}`,
    );
  }
  const sides = split.test ? [split.train, split.test] : [split.train];
  const range = sides.map(timeRange);
  const froms = range
    .map((r) => r.from)
    .filter((x): x is string => x !== null)
    .sort();
  const tos = range
    .map((r) => r.to)
    .filter((x): x is string => x !== null)
    .sort();
  return {
    train,
    test: split.test,
    unseenTestItems,
    all,
    data: {
      source: describeSources(o),
      from: froms[0] ?? null,
      to: tos.at(-1) ?? null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: train.userItems.indptr[train.nUsers]!,
    },
    protocol,
    notes,
    ...(catalogReport ? { catalog: catalogReport } : {}),
  };
}
