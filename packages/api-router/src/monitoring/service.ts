import { Unavailable } from "@reco/contracts";
import type { MetricAggregateRepository } from "@reco/db";
import type { TrpcContext } from "../context.ts";

/** The aggregates reader of this api; absent only in servers built without a database for it. */
export function monitoringOf(ctx: TrpcContext): MetricAggregateRepository {
  const monitoring = ctx.services.monitoring;
  if (!monitoring) throw new Unavailable("monitoring is not configured on this server");
  return monitoring;
}
