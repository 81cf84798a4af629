import type { Prisma } from "@reco/db";
import { parseExperimentDefinition, type ExperimentDefinition } from "../definition.ts";

/** Variants in creation order: the order weights were entered in, which assignment relies on. */
export const withVariants = {
  variants: { orderBy: { id: "asc" } },
} as const satisfies Prisma.ExperimentInclude;

export type ExperimentRow = Prisma.ExperimentGetPayload<{ include: typeof withVariants }>;

/** What the API answers for one experiment: the definition plus lifecycle timestamps. */
export interface ExperimentRecord extends ExperimentDefinition {
  id: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  stoppedAt: Date | null;
  concludedAt: Date | null;
}

/**
 * The primary metric column is NOT NULL (default click_through); a draft without a metric is
 * stored as "" so that "starting without a metric" stays a checkable state.
 */
const NO_METRIC = "";

export function rowToDefinition(row: ExperimentRow): ExperimentDefinition {
  return parseExperimentDefinition({
    ...row,
    primaryMetric: row.primaryMetric === NO_METRIC ? undefined : row.primaryMetric,
    variants: row.variants.map((v) => ({
      name: v.name,
      weight: v.weight,
      isControl: v.isControl,
      modelVersionId: v.modelVersionId,
      strategy: v.strategy,
    })),
  });
}

export function rowToRecord(row: ExperimentRow): ExperimentRecord {
  return {
    ...rowToDefinition(row),
    id: row.id,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt,
    stoppedAt: row.stoppedAt,
    concludedAt: row.concludedAt,
  };
}

/** Scalar columns of a definition (the key and variants are written separately). */
export function definitionColumns(def: ExperimentDefinition) {
  return {
    hypothesis: def.hypothesis,
    owner: def.owner,
    status: def.status,
    seed: def.seed,
    namespace: def.namespace,
    rangeStart: def.rangeStart,
    rangeEnd: def.rangeEnd,
    trafficAllocation: def.trafficAllocation,
    primaryMetric: def.primaryMetric ?? NO_METRIC,
    guardrailMetrics: def.guardrailMetrics,
    minSampleSize: def.minSampleSize,
    attributionWindowS: def.attributionWindowS,
    decision: def.decision ?? null,
    decisionReason: def.decisionReason ?? null,
  } satisfies Prisma.ExperimentUpdateInput;
}

export function variantRows(def: ExperimentDefinition) {
  return def.variants.map((v) => ({
    name: v.name,
    weight: v.weight,
    isControl: v.isControl,
    modelVersionId: v.modelVersionId ?? null,
    strategy: v.strategy ?? null,
  }));
}
