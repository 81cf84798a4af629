import type { ApiKeyStore, Authenticator, CatalogStats, Principal } from "@reco/serving";
import { apiKeyFromHeaders } from "@reco/serving";
import type { MetricAggregateRepository, ModelVersionStore } from "@reco/db";
import type { ExperimentService } from "@reco/experiments/store";
import type { RetrainingRuns } from "@reco/retraining";
import type { RolloutService } from "@reco/rollouts/store";
import type { CreateFastifyContextOptions } from "@trpc/server/adapters/fastify";
import type { RecommendationsPanel } from "./recommendations/service.ts";

/** What procedures may use; built once in main.ts and handed to buildServer. */
export interface TrpcServices {
  stats: CatalogStats;
  apiKeys: Pick<ApiKeyStore, "list" | "create" | "revoke">;
  /** Experiments (create, start, results…); procedures answer 503 when absent. */
  experiments?: ExperimentService;
  /** Model versions (list, card, stage); procedures answer 503 when absent. */
  models?: ModelVersionStore;
  /** Per-minute aggregates for monitoring; procedures answer 503 when absent. */
  monitoring?: MetricAggregateRepository;
  /** Canary rollouts (list, detail, start, manual actions); procedures answer 503 when absent. */
  rollouts?: RolloutService;
  /** The recommendations panel over the serving runtime; procedures answer 503 when absent. */
  recommendations?: RecommendationsPanel;
  /** Scheduled retraining (status, runs, manual trigger); procedures answer 503 when absent. */
  retraining?: RetrainingRuns;
}

export interface TrpcContext {
  requestId: string;
  /** null when no key was sent; `invalidKey` tells a bad key apart from none. */
  principal: Principal | null;
  invalidKey: boolean;
  /** The key could not be checked (database unreachable): answered 503, not 401. */
  keyStoreDown: boolean;
  services: TrpcServices;
}

export function contextFactory(authenticator: Authenticator, services: TrpcServices) {
  return async ({ req }: CreateFastifyContextOptions): Promise<TrpcContext> => {
    const key = apiKeyFromHeaders(req.headers);
    let keyStoreDown = false;
    const principal =
      key === undefined
        ? null
        : await authenticator.authenticate(key).catch((error: unknown) => {
            req.log.warn({ err: error }, "API key lookup failed");
            keyStoreDown = true;
            return null;
          });
    return {
      requestId: String(req.id),
      principal,
      invalidKey: key !== undefined && !principal,
      keyStoreDown,
      services,
    };
  };
}
