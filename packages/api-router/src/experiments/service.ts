import { Unavailable } from "@reco/contracts";
import type { ExperimentService } from "@reco/experiments/store";
import type { TrpcContext } from "../context.ts";

/** The experiment service of this api; absent only in servers built without a database for it. */
export function experimentsOf(ctx: TrpcContext): ExperimentService {
  const service = ctx.services.experiments;
  if (!service) throw new Unavailable("experiments are not configured on this server");
  return service;
}
