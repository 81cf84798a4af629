import type { CatalogCounts } from "@reco/serving";
import type { TrpcContext } from "../context.ts";

export function countsHandler({ ctx }: { ctx: TrpcContext }): Promise<CatalogCounts> {
  return ctx.services.stats.counts();
}
