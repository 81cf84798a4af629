import type { WindowTotals } from "@reco/db";
import type { TrpcContext } from "../context.ts";
import type { HealthInput } from "./health.schema.ts";

/** One tile of the overview: a figure with its unit, the same figure one window earlier, a link. */
export interface HealthFigure {
  key: string;
  label: string;
  /** null when not available; `note` says why */
  value: number | null;
  previous: number | null;
  unit: string;
  /** where the details are */
  href: string;
  note?: string;
}

export interface SystemHealth {
  window: { minutes: number; from: string; to: string };
  figures: HealthFigure[];
  experiments: { available: boolean; running: { key: string; startedAt: Date | null }[] };
  rollouts: {
    available: boolean;
    active: { id: number; modelName: string; status: string; trafficPct: number }[];
  };
  retraining: {
    available: boolean;
    last: { id: number; status: string; finishedAt: Date | null } | null;
    active: { id: number; status: string } | null;
  };
}

const MINUTE_MS = 60_000;
const NO_BUS = "the event bus is not configured on this server"; // as needs("pipeline") says
const NO_RATE_YET = "measured between two readings 5 s apart: shown from the next refresh";
const ACTIVE_ROLLOUT = new Set(["pending", "progressing", "paused"]);

/**
 * The system at a glance over the last `minutes` (default 5) and the window before it: traffic,
 * click-through, tail latency and fallbacks from the stream worker's per-minute aggregates, plus
 * running experiments, active rollouts and retraining. A figure the api cannot know is null with a
 * note; a missing service (no database) leaves its section `available: false`.
 */
export async function healthHandler({
  ctx,
  input,
}: {
  ctx: TrpcContext;
  input: HealthInput;
}): Promise<SystemHealth> {
  const minutes = input?.minutes ?? 5;
  const until = input?.until ? new Date(input.until) : new Date();
  const { monitoring, experiments, rollouts, retraining, pipeline } = ctx.services;

  const [current, previous, experimentList, rolloutList, retrainingStatus, backlog] =
    await Promise.all([
      monitoring?.window({ minutes, until }),
      monitoring?.window({ minutes, until: new Date(until.getTime() - minutes * MINUTE_MS) }),
      experiments?.list({ status: "running" }),
      rollouts?.list({}),
      retraining?.status(),
      // An unreachable broker costs the three bus figures, not the overview.
      pipeline?.read().catch(() => undefined),
    ]);

  const figure = (
    key: string,
    label: string,
    unit: string,
    href: string,
    read: (totals: WindowTotals) => number | null,
  ): HealthFigure => ({
    key,
    label,
    unit,
    href,
    value: current ? read(current.totals) : null,
    previous: previous ? read(previous.totals) : null,
    ...(current ? {} : { note: "monitoring is not configured on this server" }),
  });
  // From the bus now; the bus keeps no history, so there is no earlier window to compare with.
  const fromBus = (
    key: string,
    label: string,
    unit: string,
    value: number | null | undefined,
  ): HealthFigure => ({
    key,
    label,
    unit,
    href: "/monitoring",
    value: value ?? null,
    previous: null,
    ...(value === null || value === undefined
      ? {
          note:
            pipeline && backlog ? NO_RATE_YET : pipeline ? "the event bus did not answer" : NO_BUS,
        }
      : {}),
  });

  const from = new Date(
    (Math.floor(until.getTime() / MINUTE_MS) + 1 - minutes) * MINUTE_MS,
  ).toISOString();
  return {
    window: {
      minutes,
      from: current?.from ?? from,
      to: current?.to ?? new Date(Date.parse(from) + minutes * MINUTE_MS).toISOString(),
    },
    figures: [
      figure(
        "requestsPerMin",
        "Requests",
        "req/min",
        "/monitoring",
        (t) => t.impressions / minutes,
      ),
      figure("ctr", "Click-through", "%", "/monitoring", (t) =>
        t.ctr === null ? null : t.ctr * 100,
      ),
      figure("p99", "Worst-minute p99 latency", "ms", "/monitoring", (t) => t.worstMinuteP99Ms),
      figure("fallbackRate", "Fallbacks", "%", "/monitoring", (t) =>
        t.fallbackRate === null ? null : t.fallbackRate * 100,
      ),
      fromBus("eventsPerSec", "Events into snapshots", "events/s", backlog?.eventsPerSec),
      fromBus("consumerLag", "Consumer lag", "events", backlog?.consumerLag),
      fromBus("dlq", "Dead-letter queue", "events", backlog?.deadLetters),
    ],
    experiments: {
      available: experimentList !== undefined,
      running: (experimentList ?? []).map((e) => ({ key: e.key, startedAt: e.startedAt })),
    },
    rollouts: {
      available: rolloutList !== undefined,
      active: (rolloutList ?? [])
        .filter((r) => ACTIVE_ROLLOUT.has(r.status))
        .map((r) => ({
          id: r.id,
          modelName: r.modelName,
          status: r.status,
          trafficPct: r.trafficPct,
        })),
    },
    retraining: {
      available: retrainingStatus !== undefined,
      last: retrainingStatus?.last
        ? {
            id: retrainingStatus.last.id,
            status: retrainingStatus.last.status,
            finishedAt: retrainingStatus.last.finishedAt ?? null,
          }
        : null,
      active: retrainingStatus?.active
        ? { id: retrainingStatus.active.id, status: retrainingStatus.active.status }
        : null,
    },
  };
}
