/**
 * The CLI's view of the api: an untyped tRPC client over HTTP (the api's router type lives in the
 * app, which depends on this package) with the rollout procedures' shapes as they arrive in JSON
 * (dates as ISO strings), and every failure turned into one line that says what to do.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createTRPCUntypedClient, httpLink, TRPCClientError } from "@trpc/client";
import type { GateResult } from "../gates.ts";
import type { ManualAction } from "../machine.ts";
import type { RolloutAuditEntry, RolloutView, RolloutEvaluationView } from "../store/index.ts";
import { CliError } from "./cli-error.ts";
import { flagOfField } from "./flags.ts";

/** A value as it arrives in JSON: dates become ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export type RolloutJson = Json<RolloutView>;
export type EvaluationJson = Json<RolloutEvaluationView> & { gates: GateResult[] };
export type RolloutDetailJson = RolloutJson & {
  events: Json<RolloutAuditEntry>[];
  evaluations: EvaluationJson[];
  /** The manual actions the status allows now. */
  actions: ManualAction[];
};

export interface ApiConfig {
  url: string;
  key: string;
  /** Where the key came from, for messages (never the key itself). */
  keySource: string;
}

const DEFAULT_API_URL = "http://127.0.0.1:4000";

/** API_URL (default http://127.0.0.1:4000) and the key: RECO_API_KEY, else $DATA_DIR/dev-api-key. */
export function apiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const raw = env.API_URL || DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`API_URL=${JSON.stringify(raw)} is not a URL (e.g. ${DEFAULT_API_URL})`, 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CliError(`API_URL=${JSON.stringify(raw)} must be an http:// or https:// URL`, 2);
  const base = url.toString().replace(/\/+$/, "");
  const fromEnv = env.RECO_API_KEY?.trim();
  if (fromEnv) return { url: base, key: fromEnv, keySource: "RECO_API_KEY" };
  const keyFile = path.resolve(env.DATA_DIR || ".data", "dev-api-key");
  const fromFile = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  if (!fromFile)
    throw new CliError(
      `no API key: set RECO_API_KEY (an engineer key for actions, viewer to read) or start the api in embedded mode once, which writes ${keyFile}`,
      2,
    );
  return { url: base, key: fromFile, keySource: keyFile };
}

interface ErrorData {
  code?: string;
  httpStatus?: number;
  details?: unknown;
}

/** The network error under a failed fetch (ECONNREFUSED, ENOTFOUND, a timeout…). */
function networkCause(error: unknown): string | null {
  let cause: unknown = error;
  for (let depth = 0; cause && depth < 5; depth += 1) {
    const c = cause as { name?: string; code?: string; message?: string; cause?: unknown };
    if (c.name === "TimeoutError") return "no answer within 15 s";
    if (typeof c.code === "string" && /^E[A-Z_]+$/.test(c.code)) return c.code;
    if (c.name === "TypeError" && c.message === "fetch failed" && !c.cause) return "fetch failed";
    cause = c.cause;
  }
  return null;
}

/** One line for a failed call, naming the api URL, the key's source or the field at fault. */
export function describeFailure(error: unknown, config: ApiConfig): CliError {
  if (!(error instanceof TRPCClientError)) return new CliError((error as Error).message ?? "");
  const data = (error.data ?? {}) as ErrorData;
  const status = data.httpStatus;
  if (status === undefined) {
    const network = networkCause(error);
    if (network)
      return new CliError(
        `api unreachable at ${config.url} (${network}): is it running? (set API_URL to reach another)`,
      );
    return new CliError(
      `unexpected answer from ${config.url}/trpc (${error.message.split("\n")[0]}): is API_URL the Reco api?`,
    );
  }
  if (status === 401)
    return new CliError(`401 unauthorized: ${error.message} (key from ${config.keySource})`);
  if (status === 403) return new CliError(`403 forbidden: ${error.message}`);
  if (status === 404) return new CliError(`404 not found: ${error.message}`);
  if (status === 409) return new CliError(`409 conflict: ${error.message}`);
  if (status === 400) {
    const issues = (data.details as { issues?: { field: string; message: string }[] } | undefined)
      ?.issues;
    if (issues?.length)
      return new CliError(
        issues.map((issue) => `${flagOfField(issue.field)}: ${issue.message}`).join("; "),
        2,
      );
    return new CliError(`400 bad request: ${error.message}`, 2);
  }
  return new CliError(`${status} ${data.code ?? "error"}: ${error.message}`);
}

/** The rollout procedures, typed as they answer. */
export class RolloutApi {
  private readonly client;

  constructor(readonly config: ApiConfig) {
    this.client = createTRPCUntypedClient({
      links: [
        httpLink({
          url: `${config.url}/trpc`,
          headers: { authorization: `Bearer ${config.key}` },
          fetch: (url, init) =>
            fetch(url, { ...(init as RequestInit), signal: AbortSignal.timeout(15_000) }),
        }),
      ],
    });
  }

  private async call<T>(kind: "query" | "mutation", path: string, input: unknown): Promise<T> {
    try {
      return (await this.client[kind](path, input)) as T;
    } catch (error) {
      throw describeFailure(error, this.config);
    }
  }

  list(filter: { status?: string; modelName?: string }): Promise<RolloutJson[]> {
    return this.call("query", "rollouts.list", filter);
  }

  get(id: number): Promise<RolloutDetailJson> {
    return this.call("query", "rollouts.get", { id });
  }

  start(input: unknown): Promise<{ rollout: RolloutJson; webhookSecret: string | null }> {
    return this.call("mutation", "rollouts.start", input);
  }

  act(input: {
    id: number;
    action: ManualAction;
    version: number;
    reason?: string;
  }): Promise<RolloutJson> {
    return this.call("mutation", "rollouts.act", input);
  }
}
