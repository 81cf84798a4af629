import type {
  AccountStore,
  ApiKeyStore,
  ArtifactCache,
  Authenticator,
  CatalogStats,
  Principal,
} from "@reco/serving";
import { apiKeyFromHeaders } from "@reco/serving";
import { SESSION_COOKIE, csrfProblem, sessionTokenFromCookies } from "./accounts/csrf.ts";
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
  /**
   * Object storage (S3_ENDPOINT set): a version kept in the bucket (`object:` row) is fetched into
   * the api's verified cache to show its metadata and card; without it such versions say so.
   */
  artifacts?: Pick<ArtifactCache, "materialize">;
  /** Per-minute aggregates for monitoring; procedures answer 503 when absent. */
  monitoring?: MetricAggregateRepository;
  /** Canary rollouts (list, detail, start, manual actions); procedures answer 503 when absent. */
  rollouts?: RolloutService;
  /** The recommendations panel over the serving runtime; procedures answer 503 when absent. */
  recommendations?: RecommendationsPanel;
  /** People's accounts and browser sessions; sign-in and account procedures answer 503 when absent. */
  accounts?: AccountStore;
  /** Scheduled retraining (status, runs, manual trigger); procedures answer 503 when absent. */
  retraining?: RetrainingRuns;
  /** The stream worker's backlog read from the bus (lag, dead letters, events/s into snapshots). */
  pipeline?: {
    read(): Promise<{ consumerLag: number; deadLetters: number; eventsPerSec: number | null }>;
  };
}

export interface TrpcContext {
  requestId: string;
  /** The client's address as Fastify sees it (trustProxy decides), for the sign-in failure limit. */
  clientAddress?: string;
  /** null when no key was sent; `invalidKey` tells a bad key apart from none. */
  principal: Principal | null;
  invalidKey: boolean;
  /** The key could not be checked (database unreachable): answered 503, not 401. */
  keyStoreDown: boolean;
  /**
   * Set when the principal comes from a session cookie (no API key sent): the session's token, and
   * why a mutation must be refused as cross-site (missing or wrong CSRF token, foreign Origin), or
   * null when it carries a valid one. API keys are never sent by a browser on its own: no CSRF.
   */
  session?: { token: string; csrfProblem: string | null };
  services: TrpcServices;
}

export function contextFactory(authenticator: Authenticator, services: TrpcServices) {
  return async ({ req }: CreateFastifyContextOptions): Promise<TrpcContext> => {
    const key = apiKeyFromHeaders(req.headers);
    let keyStoreDown = false;
    const sessionToken =
      key === undefined ? sessionTokenFromCookies(req.headers.cookie) : undefined;
    let principal: Principal | null = null;
    let session: TrpcContext["session"];
    if (key !== undefined) {
      principal = await authenticator.authenticate(key).catch((error: unknown) => {
        req.log.warn({ err: error }, "API key lookup failed");
        keyStoreDown = true;
        return null;
      });
    } else if (sessionToken !== undefined && services.accounts) {
      const found = await services.accounts.authenticate(sessionToken).catch((error: unknown) => {
        req.log.warn({ err: error }, "session lookup failed");
        keyStoreDown = true;
        return null;
      });
      if (found) {
        principal = found;
        session = { token: sessionToken, csrfProblem: csrfProblem(req.headers, found.csrfToken) };
      }
    }
    return {
      requestId: String(req.id),
      clientAddress: req.ip,
      principal,
      invalidKey: (key !== undefined || sessionToken !== undefined) && !principal,
      keyStoreDown,
      session,
      services,
    };
  };
}

export { SESSION_COOKIE };
