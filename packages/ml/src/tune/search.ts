import type { ItemContent } from "../data/item-content.ts";
import { BadInput } from "@reco/contracts";
import {
  type InteractionOptions,
  type Interactions,
  buildInteractions,
} from "../data/interactions.ts";
import { type InteractionLog, selectEvents } from "../data/log.ts";
import { seededRandom, shuffleRange, type Random } from "../data/random.ts";
import { randomHoldout } from "../data/split.ts";
import { evaluate, type EvaluationProtocol } from "../eval/evaluate.ts";
import { METRIC_NAMES, type MetricsAtK } from "../eval/metrics.ts";
import { UnknownModelKind } from "../models/errors.ts";
import { recommenders as registeredRecommenders } from "../models/index.ts";
import {
  type HyperParameters,
  type ParameterSpec,
  type Recommender,
  resolveParameters,
} from "../models/recommender.ts";

/**
 * Candidates per kind when none are given: 9 = 3², so successive halving has three rungs (9 at a
 * ninth of the budget, 3 at a third, 1 at full) and `--model all` finishes in minutes on
 * citeulike-t's 26k items (bench/tuning).
 */
export const DEFAULT_TRIALS = 9;

/**
 * Kinds `all` leaves out above this many items, with the reason: one fit alone takes minutes
 * there (EASE^R's dense solve grows with n³: ~5 min at 20,000 items on 2 busy cores). Named
 * explicitly (`--model ease`), they are tuned all the same.
 */
export const COSTLY_KINDS: Record<string, { maxItems: number; reason: string }> = {
  ease: {
    maxItems: 5_000,
    reason: "its dense solve takes minutes per trial on a catalogue this large",
  },
};
export const DEFAULT_METRIC = "recall@20";

export interface TuneOptions {
  /** a kind, a list of kinds, or "all" (every kind with something to tune, plus popularity) */
  kinds: string | readonly string[];
  /** parameter sets tried per kind, the first being the defaults (with `fixed` applied) */
  trials?: number;
  seed?: number;
  /** fraction of each user's train items held out for validation */
  validationFraction?: number;
  /**
   * parameters kept at these values and not searched; each must be declared by a tuned kind
   * (strings as on the command line: numbers, or a categorical parameter's name)
   */
  fixed?: Record<string, number | string>;
  interactions?: InteractionOptions;
  /** how validation items never seen in the fit set count (default `field`: as misses) */
  protocol?: EvaluationProtocol;
  /** what the search maximises, `name@K` (default recall@20) */
  metric?: string;
  /** successive halving keeps the best 1/eta of each rung (default 3) */
  eta?: number;
  /**
   * a rung's validation users are at least this many (or all of them), so small data sets are
   * not ranked on a handful of users (default 500)
   */
  minValidationUsers?: number;
  /** the kinds to draw from (default the registered models; tests pass their own) */
  recommenders?: Record<string, Recommender>;
  /** item metadata in the train log's id space, for the content and hybrid kinds (--items) */
  itemContent?: ItemContent;
  /** called after every trial (the CLI prints progress) */
  onTrial?: (trial: Trial, progress: { done: number; total: number }) => void;
}

export interface Trial {
  kind: string;
  /** index of the parameter set within its kind; 0 is the defaults */
  candidate: number;
  /** successive-halving rung, 0 = cheapest */
  rung: number;
  /** share of the full budget: validation users and, for iterative models, epochs */
  budget: number;
  /** validation users scored */
  users: number;
  /** the candidate's parameters (what a full-budget fit uses) */
  params: HyperParameters;
  /** what this trial fitted (epochs cut at low budgets) */
  fitted: HyperParameters;
  /** the target metric; -Infinity when the fit failed */
  score: number;
  metrics?: MetricsAtK;
  error?: string;
  /** the score of an identical cheaper-rung trial (same fit, same users), not fitted again */
  reused?: boolean;
  seconds: number;
}

export interface KindTuning {
  kind: string;
  /** the winner of the top rung */
  best: Trial;
  candidates: number;
  trials: number;
  seconds: number;
}

export interface TuneResult {
  metric: { name: keyof MetricsAtK; k: number; label: string };
  /** kinds `all` left out (see COSTLY_KINDS), with why */
  leftOut: { kind: string; reason: string }[];
  /** per kind, best first */
  kinds: KindTuning[];
  /** the best kind's winner: its score is at full budget */
  best: Trial;
  /** every trial, in the order run */
  trials: Trial[];
  validation: {
    seed: number;
    fraction: number;
    trainEvents: number;
    validationEvents: number;
    validationUsers: number;
    protocol: EvaluationProtocol;
  };
  seconds: number;
}

export function parseMetric(text: string): TuneResult["metric"] {
  const match = /^([a-z_]+)@(\d+)$/.exec(text.trim());
  const name = match?.[1] as keyof MetricsAtK | undefined;
  if (
    !match ||
    !name ||
    !(METRIC_NAMES as readonly string[]).includes(name) ||
    Number(match[2]) < 1
  )
    throw new BadInput(
      `metric must be NAME@K with NAME one of ${METRIC_NAMES.join(", ")} and K ≥ 1, got ${JSON.stringify(text)}`,
    );
  return { name, k: Number(match[2]), label: `${name}@${match[2]}` };
}

/** The kinds a tuning run covers, each known; "all" is every registered kind. */
export function resolveKinds(
  kinds: string | readonly string[],
  registry: Record<string, Recommender> = registeredRecommenders,
): Recommender[] {
  const names =
    kinds === "all"
      ? Object.keys(registry)
      : typeof kinds === "string"
        ? kinds.split(",").map((kind) => kind.trim())
        : [...kinds];
  if (names.length === 0) throw new BadInput("no model kind to tune");
  return names.map((name) => {
    const recommender = registry[name];
    if (!recommender) throw new UnknownModelKind(name, Object.keys(registry));
    return recommender;
  });
}

/**
 * Every option checked and defaulted before any data is touched: unknown kinds, a fixed parameter
 * no tuned kind declares, out-of-range values and bad counts fail with a message naming them.
 */
export function checkTuneOptions(options: TuneOptions) {
  const recommenders = resolveKinds(options.kinds, options.recommenders ?? registeredRecommenders);
  const trials = options.trials ?? DEFAULT_TRIALS;
  if (!(Number.isInteger(trials) && trials >= 1))
    throw new BadInput(`trials must be a positive integer, got ${trials}`);
  const eta = options.eta ?? 3;
  if (!(Number.isInteger(eta) && eta >= 2))
    throw new BadInput(`eta must be an integer ≥ 2, got ${eta}`);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new BadInput(`seed must be an integer, got ${seed}`);
  const fraction = options.validationFraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1))
    throw new BadInput(`validation fraction must be in (0, 1), got ${fraction}`);
  const protocol = options.protocol ?? "field";
  const metric = parseMetric(options.metric ?? DEFAULT_METRIC);
  const fixed = fixedByKind(recommenders, options.fixed ?? {});
  for (const recommender of recommenders) {
    const own = fixed.get(recommender.kind)!;
    // The run's seed also seeds models that take one (iALS's initial factors), unless fixed.
    const spec = recommender.parameters.seed;
    if (spec && !spec.search && !("seed" in own) && seed >= spec.min && seed <= spec.max)
      own.seed = seed;
  }
  return { recommenders, trials, eta, seed, fraction, protocol, metric, fixed };
}

function sample(spec: ParameterSpec, random: Random): number {
  const [low, high] = spec.search!;
  if (spec.logScale && low > 0) {
    const value = Math.exp(Math.log(low) + random.next() * (Math.log(high) - Math.log(low)));
    return spec.integer ? Math.round(value) : Number(value.toPrecision(3));
  }
  // Integers (and categorical choices) uniformly, the end points as likely as the rest.
  if (spec.integer) return Math.min(high, Math.floor(low + random.next() * (high - low + 1)));
  return Number((low + random.next() * (high - low)).toPrecision(3));
}

/** A per-kind stream of random numbers, so adding a kind to a run leaves the others' candidates. */
function kindSeed(seed: number, kind: string): number {
  let hash = seed >>> 0;
  for (const char of kind) hash = (Math.imul(hash ^ char.charCodeAt(0), 0x01000193) + 1) >>> 0;
  return hash;
}

/** Fixed parameters split by kind; a name no tuned kind declares is refused, naming them all. */
function fixedByKind(
  recommenders: Recommender[],
  fixed: Record<string, number | string>,
): Map<string, Record<string, number>> {
  for (const name of Object.keys(fixed)) {
    if (!recommenders.some((r) => name in r.parameters)) {
      const known = recommenders
        .map((r) => `${r.kind}: ${Object.keys(r.parameters).join(", ") || "none"}`)
        .join("; ");
      throw new BadInput(
        `unknown fixed parameter "${name}": no tuned model kind declares it (${known})`,
      );
    }
  }
  return new Map(
    recommenders.map((r) => {
      // names and ranges checked by the model, with the kind in the message; strings converted
      const resolved = resolveParameters(
        r,
        Object.fromEntries(Object.entries(fixed).filter(([name]) => name in r.parameters)),
      );
      return [
        r.kind,
        Object.fromEntries(
          Object.keys(fixed).flatMap((name) =>
            name in r.parameters ? [[name, resolved[name]!]] : [],
          ),
        ),
      ];
    }),
  );
}

/** The candidates of one kind: the defaults first, then seeded random draws of the search space. */
function candidatesOf(
  recommender: Recommender,
  fixed: Record<string, number>,
  trials: number,
  seed: number,
): HyperParameters[] {
  const searched = Object.entries(recommender.parameters).filter(
    ([name, spec]) => spec.search && !(name in fixed),
  );
  const random = seededRandom(kindSeed(seed, recommender.kind));
  const candidates = [resolveParameters(recommender, fixed)];
  if (searched.length === 0) return candidates;
  const seen = new Set([JSON.stringify(candidates[0])]);
  for (let attempt = 0; candidates.length < trials && attempt < trials * 20; attempt++) {
    const drawn: Record<string, number> = { ...fixed };
    for (const [name, spec] of searched) drawn[name] = sample(spec, random);
    const params = resolveParameters(recommender, drawn);
    const key = JSON.stringify(params);
    if (seen.has(key)) continue; // small integer spaces: no candidate twice
    seen.add(key);
    candidates.push(params);
  }
  return candidates;
}

/**
 * Successive-halving rungs for n candidates: budgets eta^(r−R) of the full one, survivors
 * ⌊n·eta^−r⌋ (at least 1). R is how often n can be divided by eta, at most 2 (the cheapest rung
 * gets 1/9 of the budget: cheaper ones rank too noisily to be worth it).
 */
export function halvingRungs(n: number, eta: number): { size: number; budget: number }[] {
  let top = 0;
  while (top < 2 && Math.floor(n / eta ** (top + 1)) >= 1) top++;
  const rungs = [];
  for (let r = 0; r <= top; r++)
    rungs.push({ size: Math.max(1, Math.floor(n / eta ** r)), budget: eta ** (r - top) });
  return rungs;
}

/**
 * A non-searched integer `epochs` is the budget of iterative models: cut at cheap rungs, but only
 * where the users are cut too. When a rung's validation users are raised to `minValidationUsers`
 * (a small data set, where fits are cheap) the rung is cheap by users only: on the demo data 2 of
 * 10 iALS epochs ranked the nine candidates with a Spearman ρ of 0.57 against their full-epoch
 * scores and dropped the two best (low λ and alpha converge slowest), see bench/tuning.
 */
function atBudget(
  recommender: Recommender,
  params: HyperParameters,
  budget: number,
  usersRaised: boolean,
) {
  const spec = recommender.parameters.epochs;
  if (budget >= 1 || usersRaised || !spec || spec.search || params.epochs === undefined)
    return params;
  const full = params.epochs;
  return { ...params, epochs: Math.max(Math.min(full, 2), Math.ceil(full * budget)) };
}

function byScore(a: { score: number; candidate: number }, b: { score: number; candidate: number }) {
  return b.score - a.score || a.candidate - b.candidate;
}

/**
 * Hyper-parameter search by successive halving over seeded random candidates (the defaults
 * always among them), per kind: every candidate is first scored cheaply — on a seeded subsample of
 * the validation users and, for iterative models, fewer epochs (only where the users are cut too:
 * not on small data sets, see atBudget) — and only the best 1/eta move up to a larger budget, until
 * the last rung scores the survivors on every validation user with the full epochs. The kinds' top-rung winners are then compared on the same full validation set.
 *
 * The validation split is carved from `train` (per user, seeded): nothing else is looked at.
 */
export async function tune(train: InteractionLog, options: TuneOptions): Promise<TuneResult> {
  const started = performance.now();
  const { recommenders, trials, eta, seed, fraction, protocol, metric, fixed } =
    checkTuneOptions(options);
  const minUsers = options.minValidationUsers ?? 500;
  const nItems = train.ids.items.length;
  const leftOut: TuneResult["leftOut"] = [];
  const tuned =
    options.kinds === "all"
      ? recommenders.filter((recommender) => {
          const costly = COSTLY_KINDS[recommender.kind];
          if (!costly || nItems <= costly.maxItems) return true;
          leftOut.push({
            kind: recommender.kind,
            reason: `${nItems} items > ${costly.maxItems}: ${costly.reason} (tune it with --model ${recommender.kind})`,
          });
          return false;
        })
      : recommenders;
  const plans = tuned.map((recommender) => {
    const candidates = candidatesOf(recommender, fixed.get(recommender.kind)!, trials, seed);
    return { recommender, candidates, rungs: halvingRungs(candidates.length, eta) };
  });

  const split = randomHoldout(train, { testFraction: fraction, seed: seed + 1 });
  const fitSet = buildInteractions(split.train, options.interactions);
  // the split keeps the log's id maps, so the metadata lines up
  if (options.itemContent) fitSet.itemContent = options.itemContent;
  const validation = buildInteractions(split.test, options.interactions);
  // Validation users in a seeded order: a rung with budget b scores the first b·|users| of them,
  // so each rung's users include the cheaper rungs' (scores across rungs stay comparable).
  const users = new Int32Array(
    Array.from({ length: validation.nUsers }, (_, u) => u).filter(
      (u) => validation.userItems.indptr[u + 1]! > validation.userItems.indptr[u]!,
    ),
  );
  shuffleRange(users, 0, users.length, seededRandom(seed + 2));
  const subsets = new Map<number, { interactions: Interactions; users: number }>();
  const validationAt = (budget: number) => {
    const count = Math.min(users.length, Math.max(minUsers, Math.ceil(budget * users.length)));
    let subset = subsets.get(count);
    if (!subset) {
      subset = {
        interactions:
          count === users.length ? validation : usersOf(split.test, users.subarray(0, count)),
        users: count,
      };
      subsets.set(count, subset);
    }
    return { ...subset, raised: count > Math.ceil(budget * users.length) };
  };

  const total = plans.reduce((sum, plan) => sum + plan.rungs.reduce((s, r) => s + r.size, 0), 0);
  const all: Trial[] = [];
  const kinds: KindTuning[] = [];
  for (const { recommender, candidates, rungs } of plans) {
    const kindStarted = performance.now();
    let alive = candidates.map((_, index) => index);
    let ranked: Trial[] = [];
    // A rung that fits and scores exactly what a cheaper one did (same fitted parameters, same
    // users: small data sets) takes that score instead of fitting again; fits are seeded.
    const scored = new Map<string, Trial>();
    for (let rung = 0; rung < rungs.length; rung++) {
      const { budget } = rungs[rung]!;
      const target = validationAt(budget);
      ranked = [];
      for (const candidate of alive) {
        const params = candidates[candidate]!;
        const fitted = atBudget(recommender, params, budget, target.raised);
        const key = `${target.users} ${JSON.stringify(fitted)}`;
        const earlier = scored.get(key);
        const trialStarted = performance.now();
        let trial: Trial;
        if (earlier) {
          trial = { ...earlier, rung, budget, seconds: 0, reused: true };
          all.push(trial);
          ranked.push(trial);
          options.onTrial?.(trial, { done: all.length, total });
          continue;
        }
        try {
          const model = await recommender.fit(fitSet, fitted);
          const evaluation = evaluate(model, fitSet, target.interactions, {
            ks: [metric.k],
            protocol,
          });
          const metrics = evaluation.metrics[String(metric.k)]!;
          const score = metrics[metric.name];
          trial = {
            kind: recommender.kind,
            candidate,
            rung,
            budget,
            users: target.users,
            params,
            fitted,
            score: Number.isFinite(score) ? score : -Infinity,
            metrics,
            seconds: (performance.now() - trialStarted) / 1000,
          };
        } catch (error) {
          // One diverging parameter set (NaN factors, a matrix too large) loses, not the run.
          trial = {
            kind: recommender.kind,
            candidate,
            rung,
            budget,
            users: target.users,
            params,
            fitted,
            score: -Infinity,
            error: (error as Error).message,
            seconds: (performance.now() - trialStarted) / 1000,
          };
        }
        scored.set(key, trial);
        all.push(trial);
        ranked.push(trial);
        options.onTrial?.(trial, { done: all.length, total });
      }
      ranked.sort(byScore);
      const next = rungs[rung + 1];
      if (next) alive = ranked.slice(0, next.size).map((trial) => trial.candidate);
    }
    kinds.push({
      kind: recommender.kind,
      best: ranked[0]!,
      candidates: candidates.length,
      trials: all.filter((trial) => trial.kind === recommender.kind).length,
      seconds: (performance.now() - kindStarted) / 1000,
    });
  }
  kinds.sort((a, b) => b.best.score - a.best.score);
  if (!Number.isFinite(kinds[0]!.best.score)) {
    const failed = all.find((trial) => trial.error !== undefined);
    throw new BadInput(
      `every trial failed${failed ? `; ${failed.kind} ${JSON.stringify(failed.fitted)}: ${failed.error}` : " (no finite score)"}`,
    );
  }
  return {
    metric,
    leftOut,
    kinds,
    best: kinds[0]!.best,
    trials: all,
    validation: {
      seed: seed + 1,
      fraction,
      trainEvents: split.train.length,
      validationEvents: split.test.length,
      validationUsers: users.length,
      protocol,
    },
    seconds: (performance.now() - started) / 1000,
  };
}

/** The validation events of some users, same id maps. */
function usersOf(log: InteractionLog, users: Int32Array): Interactions {
  const keep = new Uint8Array(log.ids.users.length);
  for (const u of users) keep[u] = 1;
  const positions: number[] = [];
  for (let n = 0; n < log.length; n++) if (keep[log.user[n]!]) positions.push(n);
  return buildInteractions(selectEvents(log, Int32Array.from(positions)));
}

function searchedNames(recommender: Recommender | undefined): string[] {
  return Object.entries(recommender?.parameters ?? {})
    .filter(([, spec]) => spec.search)
    .map(([name]) => name);
}

function formatParams(
  params: HyperParameters,
  names: string[],
  recommender: Recommender | undefined,
): string {
  return names
    .map((name) => {
      // categorical parameters by name where the spec lists them
      const spec = recommender?.parameters[name] as { choices?: readonly string[] } | undefined;
      return `${name}=${spec?.choices?.[params[name]!] ?? params[name]}`;
    })
    .join(" ");
}

function markdown(header: string[], rows: string[][], leftColumns: number): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column]!.length)),
  );
  const pad = (cell: string, column: number) =>
    column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!);
  const line = (cells: string[]) => `| ${cells.map(pad).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((width, column) => (column < leftColumns ? `${"-".repeat(width + 2)}` : `${"-".repeat(width + 1)}:`)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

/**
 * Markdown tables: one line per kind (its winner's validation score at full budget), then each
 * kind's candidates at the highest rung they reached, best first (`top` per kind, default all).
 */
export function formatTuneTable(
  result: TuneResult,
  options: { top?: number; recommenders?: Record<string, Recommender> } = {},
): string {
  const registry = options.recommenders ?? registeredRecommenders;
  const label = result.metric.label;
  const summary = markdown(
    ["kind", `validation ${label}`, "candidates", "trials", "seconds", "parameters"],
    result.kinds.map((k) => [
      k.kind,
      Number.isFinite(k.best.score) ? k.best.score.toFixed(4) : "failed",
      String(k.candidates),
      String(k.trials),
      k.seconds.toFixed(1),
      formatParams(k.best.params, searchedNames(registry[k.kind]), registry[k.kind]) ||
        "(nothing to tune)",
    ]),
    1,
  );
  const highest = new Map<string, Trial>();
  for (const trial of result.trials) highest.set(`${trial.kind}/${trial.candidate}`, trial);
  const rows: string[][] = [];
  for (const { kind } of result.kinds) {
    const reached = [...highest.values()]
      .filter((trial) => trial.kind === kind)
      .sort((a, b) => b.rung - a.rung || byScore(a, b))
      .slice(0, options.top ?? Infinity);
    for (const trial of reached)
      rows.push([
        kind,
        trial.candidate === 0 ? "defaults" : `#${trial.candidate}`,
        `${trial.rung} (${trial.users} users${trial.fitted.epochs !== trial.params.epochs ? `, ${trial.fitted.epochs} epochs` : ""})`,
        Number.isFinite(trial.score) ? trial.score.toFixed(4) : `failed: ${trial.error ?? "NaN"}`,
        trial.seconds.toFixed(2),
        formatParams(trial.params, searchedNames(registry[kind]), registry[kind]),
      ]);
  }
  const detail = markdown(
    ["kind", "candidate", "rung reached", label, "seconds", "parameters"],
    rows,
    2,
  );
  return `${summary}\n\n${detail}`;
}

/** One progress line per trial, e.g. `[12/39] ials #4 rung 0 (500 users, 2 epochs): 0.0812 (1.3 s)`. */
export function describeTrial(trial: Trial, done: number, total: number): string {
  const epochs =
    trial.fitted.epochs !== trial.params.epochs ? `, ${trial.fitted.epochs} epochs` : "";
  const outcome = Number.isFinite(trial.score)
    ? trial.score.toFixed(4)
    : `failed (${trial.error ?? "not a number"})`;
  const params = formatParams(
    trial.params,
    searchedNames(registeredRecommenders[trial.kind]),
    registeredRecommenders[trial.kind],
  );
  return `[${done}/${total}] ${trial.kind} ${trial.candidate === 0 ? "defaults" : `#${trial.candidate}`} rung ${trial.rung} (${trial.users} users${epochs}): ${outcome} (${trial.reused ? "as rung below" : `${trial.seconds.toFixed(1)} s`})${params ? ` ${params}` : ""}`;
}
