import { DEFAULT_CLICK_MODEL, decideClick, type ClickModel } from "./click-model.ts";
import type { ReplayUser } from "./demo-data.ts";
import { deriveSeed, seededRandom, shuffled, type Random } from "./random.ts";
import { TokenBucket } from "./token-bucket.ts";

export interface SimulationOptions {
  /** the api's base URL, e.g. http://127.0.0.1:4000 */
  api: string;
  /** an API key with the client role (or above) */
  key: string;
  /** the users to replay from (see loadReplayUsers); `userCount` of them are drawn with the seed */
  users: readonly ReplayUser[];
  userCount: number;
  /** requests per second, all kinds together (token bucket, burst of one second) */
  rps: number;
  durationS: number;
  seed: number;
  /**
   * Stop a user after this many visits (one visit: a recommendation and what follows it); the run
   * ends when every drawn user has made them. Without it, the run goes on until the duration: a
   * user who has met their whole future or made `sessionVisits` visits leaves, and a user not yet
   * drawn takes their place (after all have been drawn, they come back as new ids, `…g<n>-<userId>`),
   * so the click-through stays what the model earns instead of fading as futures run out.
   */
  visitsPerUser?: number;
  /** visits before a user leaves when `visitsPerUser` is not set (default 20) */
  sessionVisits?: number;
  /** list length asked for */
  k?: number;
  /** requests in flight at most */
  concurrency?: number;
  clickModel?: ClickModel;
  /** at most this many of the latest past ratings are sent as each user's history */
  pastLimit?: number;
  /** the synthetic users' ids are `${prefix}${userId}`; default `sim${seed}-` */
  userPrefix?: string;
  progressEveryS?: number;
  log?: (line: string) => void;
  /** stops the run early (the summary is still returned) */
  signal?: AbortSignal;
}

export interface ListStats {
  lists: number;
  clicks: number;
}

export interface SimulationStats {
  /** HTTP requests sent, retries included */
  requests: number;
  recommendations: number;
  /** recommendation answers with at least one item: the click-through's denominator */
  lists: number;
  clicks: number;
  /** clicks on an item of the user's held-out future */
  hitClicks: number;
  /** served items that were in the user's future, over all lists */
  hits: number;
  watches: number;
  ratings: number;
  /** past ratings sent as the users' histories */
  pastEvents: number;
  /** 429 and 503 answers (waited for, then retried) */
  throttled: number;
  errors: number;
  lastError?: string;
  seconds: number;
  /** clicks / lists */
  ctr: number;
  /** per served version (and experiment arm, when one chose it) */
  byVersion: Record<string, ListStats>;
}

const MAX_RETRIES = 5;
const MAX_RETRY_WAIT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); 1 when absent or bad. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === "") return 1000;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : 1000;
}

interface UserState {
  replay: ReplayUser;
  id: string;
  random: Random;
  future: Map<string, number>;
  started: boolean;
  visits: number;
}

interface Answer {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

/**
 * Replays held-out behaviour through the public REST API: each synthetic user sends their past
 * ratings once (their history, which the model folds in), then visits: GET /recommend, a click
 * (POST /feedback with the answer's recId) decided by the click model against their future, and
 * after some clicks on a future item a watch and their real rating of it. Seeded: the users drawn
 * and every user's choices come from the seed. Stops at the duration, when every user has made
 * `visitsPerUser` visits, or on `signal`.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationStats> {
  const {
    api,
    key,
    rps,
    durationS,
    seed,
    k = 10,
    clickModel = DEFAULT_CLICK_MODEL,
    pastLimit = 200,
    userPrefix = `sim${seed}-`,
    progressEveryS = 5,
    log = () => {},
    signal,
  } = options;
  const base = api.replace(/\/+$/, "");
  const order = shuffled(options.users, seededRandom(seed));
  const userState = (replay: ReplayUser, generation: number): UserState => {
    const tag = generation > 0 ? `g${generation}-${replay.userId}` : replay.userId;
    return {
      replay,
      id: `${userPrefix}${tag}`,
      random: seededRandom(deriveSeed(seed, tag)),
      future: new Map(replay.future.map((r) => [r.itemId, r.rating])),
      started: false,
      visits: 0,
    };
  };
  const users: UserState[] = order.slice(0, options.userCount).map((r) => userState(r, 0));
  const stats: SimulationStats = {
    requests: 0,
    recommendations: 0,
    lists: 0,
    clicks: 0,
    hitClicks: 0,
    hits: 0,
    watches: 0,
    ratings: 0,
    pastEvents: 0,
    throttled: 0,
    errors: 0,
    seconds: 0,
    ctr: 0,
    byVersion: {},
  };
  const started = performance.now();
  const deadline = started + durationS * 1000;
  const bucket = new TokenBucket(rps, Math.max(1, rps));
  const stopped = () => signal?.aborted === true || performance.now() >= deadline;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    });

  const finish = () => {
    stats.seconds = (performance.now() - started) / 1000;
    stats.ctr = stats.lists > 0 ? stats.clicks / stats.lists : 0;
    return stats;
  };
  const progress = () => {
    const s = finish();
    log(
      `${s.seconds.toFixed(0)} s: ${s.requests} requests (${s.recommendations} recommendations, ` +
        `${s.clicks} clicks, ${s.watches} watches, ${s.ratings} ratings), CTR ${(s.ctr * 100).toFixed(1)} %, ` +
        `${s.errors} errors, ${s.throttled} throttled${s.lastError ? ` (last error: ${s.lastError})` : ""}`,
    );
  };

  /** One request, waiting for a token first; 429/503 are retried after their Retry-After. */
  async function send(method: "GET" | "POST", path: string, body?: unknown) {
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt += 1) {
      if (signal?.aborted || !(await bucket.take(deadline))) return undefined;
      stats.requests += 1;
      let answer: Answer;
      try {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: kept as text for the error line
        }
        answer = {
          status: response.status,
          body: parsed,
          retryAfter: response.headers.get("retry-after"),
        };
      } catch (error) {
        stats.errors += 1;
        stats.lastError = `${method} ${path.split("?")[0]}: ${(error as Error).message}`;
        return undefined;
      }
      if (answer.status === 429 || answer.status === 503) {
        stats.throttled += 1;
        const wait = Math.min(MAX_RETRY_WAIT_MS, retryAfterMs(answer.retryAfter));
        if (performance.now() + wait >= deadline) return undefined;
        await sleep(wait);
        continue;
      }
      if (answer.status >= 400) {
        stats.errors += 1;
        const message = (answer.body as { error?: { message?: string } })?.error?.message;
        stats.lastError = `${method} ${path.split("?")[0]}: ${answer.status}${message ? ` ${message}` : ""}`;
        return undefined;
      }
      return answer;
    }
    return undefined;
  }

  async function visit(user: UserState): Promise<void> {
    if (!user.started) {
      const past = user.replay.past.slice(-pastLimit);
      const sent = await send("POST", "/feedback", {
        events: past.map((r, i) => ({
          userId: user.id,
          itemId: r.itemId,
          type: "rate",
          value: r.rating,
          // the same ids on a second run with this seed: the history is stored once
          eventId: `${user.id}-past-${i}`,
        })),
      });
      if (!sent) return;
      user.started = true;
      stats.pastEvents += past.length;
    }
    user.visits += 1;
    const answer = await send("GET", `/recommend/${encodeURIComponent(user.id)}?k=${k}`);
    if (!answer) return;
    stats.recommendations += 1;
    const rec = answer.body as {
      recId: string;
      items: { itemId: string }[];
      modelVersion: string;
      variant?: string;
    };
    const served = rec.items.map((item) => item.itemId);
    if (served.length === 0) return;
    stats.lists += 1;
    const label = rec.variant ? `${rec.modelVersion} (${rec.variant})` : rec.modelVersion;
    const perVersion = (stats.byVersion[label] ??= { lists: 0, clicks: 0 });
    perVersion.lists += 1;
    const decision = decideClick(served, new Set(user.future.keys()), user.random, clickModel);
    stats.hits += decision.hits;
    if (decision.itemId === undefined) return;
    const clicked = await send("POST", "/feedback", {
      events: [{ userId: user.id, itemId: decision.itemId, type: "click", recId: rec.recId }],
    });
    if (!clicked) return;
    stats.clicks += 1;
    perVersion.clicks += 1;
    if (!decision.hit) return;
    stats.hitClicks += 1;
    const rating = user.future.get(decision.itemId)!;
    user.future.delete(decision.itemId); // met: no longer a future item
    if (user.random.next() >= clickModel.watchProbability) return;
    const progressValue = Math.round((0.5 + 0.5 * user.random.next()) * 100) / 100;
    const consumed = await send("POST", "/feedback", {
      events: [
        { userId: user.id, itemId: decision.itemId, type: "watch", value: progressValue },
        { userId: user.id, itemId: decision.itemId, type: "rate", value: rating },
      ],
    });
    if (!consumed) return;
    stats.watches += 1;
    stats.ratings += 1;
  }

  const concurrency = Math.max(1, Math.min(options.concurrency ?? 8, users.length));
  const limit = options.visitsPerUser ?? Infinity;
  const sessionVisits = options.sessionVisits ?? 20;
  async function worker(w: number): Promise<void> {
    const mine = users.filter((_, i) => i % concurrency === w);
    // the users this worker draws from when one leaves: its share of the shuffled order, in turn
    const pool = order.filter((_, i) => i % concurrency === w);
    let next = mine.length;
    while (!stopped()) {
      const open = mine.filter((user) => user.visits < limit);
      if (open.length === 0) return;
      for (const user of open) {
        if (stopped()) return;
        await visit(user);
        if (options.visitsPerUser === undefined) {
          if (user.future.size > 0 && user.visits < sessionVisits) continue;
          const generation = Math.floor(next / pool.length);
          mine[mine.indexOf(user)] = userState(pool[next % pool.length]!, generation);
          next += 1;
        }
      }
    }
  }

  log(
    `simulating ${users.length} users (of ${options.users.length} with a held-out future) against ${base} ` +
      `at ≤ ${rps} req/s for ≤ ${durationS} s, seed ${seed}: POST /feedback (their past ratings, once), ` +
      `GET /recommend/:userId?k=${k}, POST /feedback (click with the recId; watch and rate of future items)`,
  );
  const timer = setInterval(progress, progressEveryS * 1000);
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  } finally {
    clearInterval(timer);
  }
  return finish();
}
