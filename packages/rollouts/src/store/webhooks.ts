import { createHmac } from "node:crypto";
import type { Logger } from "pino";
import type { RolloutService, RolloutTransitionNotice } from "./service.ts";

/** `sha256=<hex>` of the body under the rollout's secret (GitHub's X-Hub-Signature-256 form). */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface WebhookSenderOptions {
  /** Attempts per delivery (default 6: at 0.5, 1, 2, 4, 8 s backoff after the first). */
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  /** Deliveries waiting at most; older ones are dropped (and reported) past it. */
  capacity?: number;
  onResult?: (result: {
    url: string;
    rolloutId: number;
    ok: boolean;
    attempts: number;
    status?: number;
    error?: string;
  }) => void;
}

/**
 * Posts a signed JSON body for every rollout transition, off the controller's path: `send`
 * returns at once, deliveries retry with exponential backoff (2xx ends them; 4xx other than
 * 408/429 too, since retrying will not help), and a slow or dead receiver never delays a
 * transition. Deliveries live in memory: a process that stops drops what it had not delivered.
 */
export class WebhookSender {
  private inFlight = 0;
  private closed = false;
  private abandoned = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly capacity: number;

  constructor(private readonly options: WebhookSenderOptions = {}) {
    this.attempts = options.attempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.capacity = options.capacity ?? 1_000;
  }

  /** The body receivers get: the transition, the rollout after it, and when. */
  static body(notice: RolloutTransitionNotice): string {
    return JSON.stringify({
      event: "rollout.transition",
      rolloutId: notice.rollout.id,
      from: notice.from,
      to: notice.to,
      step: notice.step,
      action: notice.action,
      actor: notice.actor,
      reason: notice.reason,
      details: notice.details,
      rollout: {
        id: notice.rollout.id,
        status: notice.rollout.status,
        modelName: notice.rollout.modelName,
        candidate: `${notice.rollout.candidate.name}@${notice.rollout.candidate.version}`,
        baseline: notice.rollout.baseline
          ? `${notice.rollout.baseline.name}@${notice.rollout.baseline.version}`
          : null,
        trafficPct: notice.rollout.trafficPct,
        version: notice.rollout.version,
      },
      at: new Date().toISOString(),
    });
  }

  send(notice: RolloutTransitionNotice): void {
    if (!notice.webhook || this.closed) return;
    if (this.inFlight >= this.capacity) {
      this.options.onResult?.({
        url: notice.webhook.url,
        rolloutId: notice.rollout.id,
        ok: false,
        attempts: 0,
        error: "webhook queue full; delivery dropped",
      });
      return;
    }
    const delivery = this.deliver(notice.webhook, notice.rollout.id, WebhookSender.body(notice));
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }

  /** Takes no new deliveries and gives those in flight (retries included) up to `waitMs`. */
  async close(waitMs = 2_000): Promise<void> {
    this.closed = true;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise((resolve) => setTimeout(resolve, waitMs).unref()),
    ]);
    this.abandoned = true;
  }

  private async deliver(
    target: { url: string; secret: string },
    rolloutId: number,
    body: string,
  ): Promise<void> {
    this.inFlight++;
    let status: number | undefined;
    let error: string | undefined;
    try {
      for (let attempt = 1; attempt <= this.attempts; attempt++) {
        try {
          const response = await fetch(target.url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "user-agent": "reco-rollouts",
              "x-reco-event": "rollout.transition",
              "x-reco-signature-256": signWebhookBody(target.secret, body),
            },
            body,
            redirect: "manual",
            signal: AbortSignal.timeout(this.timeoutMs),
          });
          status = response.status;
          await response.body?.cancel();
          error = undefined;
          if (response.ok) {
            this.options.onResult?.({
              url: target.url,
              rolloutId,
              ok: true,
              attempts: attempt,
              status,
            });
            return;
          }
          if (status < 500 && status !== 408 && status !== 429) break;
        } catch (failure) {
          error = (failure as Error).message;
        }
        if (this.abandoned || attempt === this.attempts) break;
        await new Promise((resolve) =>
          setTimeout(resolve, this.baseDelayMs * 2 ** (attempt - 1)).unref(),
        );
      }
      this.options.onResult?.({
        url: target.url,
        rolloutId,
        ok: false,
        attempts: this.attempts,
        status,
        error: error ?? `answered ${status}`,
      });
    } finally {
      this.inFlight--;
    }
  }
}

/**
 * A webhook URL as logs may show it: its origin only. Receivers often carry their token in the path
 * or the query (`https://hooks.example/services/T0/B0/<token>`), and logs are no place for it.
 */
export function webhookUrlForLogs(url: string): string {
  try {
    const parsed = new URL(url);
    const rest = parsed.pathname !== "/" || parsed.search !== "" || parsed.hash !== "";
    return `${parsed.origin}${rest ? "/…" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * What every process that changes rollouts does with a transition: logs it and posts it to the
 * rollout's webhook. Returns the sender, to be closed at shutdown.
 */
export function announceTransitions(
  rollouts: Pick<RolloutService, "onTransition">,
  logger: Pick<Logger, "info" | "warn">,
): WebhookSender {
  const webhooks = new WebhookSender({
    onResult: (result) => {
      if (!result.ok)
        logger.warn(
          { ...result, url: webhookUrlForLogs(result.url) },
          "rollout webhook not delivered",
        );
    },
  });
  rollouts.onTransition((notice) => {
    logger.info(
      {
        rollout: notice.rollout.id,
        from: notice.from,
        to: notice.to,
        step: notice.step,
        action: notice.action,
        actor: notice.actor,
        reason: notice.reason,
      },
      "rollout transition",
    );
    webhooks.send(notice);
  });
  return webhooks;
}
