/**
 * RecommendationService's answer format, apart from routing (recommender.test.ts):
 * - the cached text: the exposure fields (AnswerMeta) as JSON on the first line, then the response
 *   body without recId/cached; a hit is split, never parsed; anything else under the key is a miss;
 * - the splice of recId and cached into that body: valid JSON, equal to the computed answer + both;
 * - the exposure fields carried into reco.requests / reco.responses, read back from the bus and
 *   decoded with the shared event schemas.
 * Real parts throughout (MemoryCache, file-log bus, event queue); the model is a fixed ranking.
 */
import { MemoryCache, type CacheSetOptions } from "@reco/cache";
import {
  decodeEvent,
  type RecommendationRequest,
  type RecommendationResponse,
  type RequestContext,
} from "@reco/contracts";
import { waitFor } from "@reco/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { REF, recommenderHarness, type RecommenderHarness } from "./recommender.fixture.ts";
import type { Recommendation } from "./schemas.ts";

/** The in-process cache, noting the keys answers are written under (the key format is private). */
class KeyNotingCache extends MemoryCache {
  readonly textKeys: string[] = [];
  override async setText(key: string, text: string, options?: CacheSetOptions): Promise<boolean> {
    this.textKeys.push(key);
    return super.setText(key, text, options);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** u0's warm answer for k = 3 (see the fixture: the model ranks i0, i1, …; u0 saw i1..i6). */
const U0_TOP3 = [
  { itemId: "i0", score: 20, title: "T i0", reason: "personalized" },
  { itemId: "i7", score: 13, title: "T i7", reason: "personalized" },
  { itemId: "i8", score: 12, title: "T i8", reason: "personalized" },
];

let readers = 0;

/** Every exposure event the service queued so far, read back from the bus and decoded. */
async function published(h: RecommenderHarness): Promise<{
  requests: RecommendationRequest[];
  responses: RecommendationResponse[];
}> {
  expect(await h.events.flush(5_000)).toBe(0);
  const topics = [h.topics.requests, h.topics.responses];
  let total = 0;
  for (const topic of topics)
    for (const { offset } of await h.bus.endOffsets(topic)) total += Number(offset);
  const values: Buffer[] = [];
  const reader = h.bus.consumer({ groupId: `exposure-reader-${++readers}`, topics });
  await reader.run(async ({ messages }) => void values.push(...messages.map((m) => m.value)));
  await waitFor(() => values.length >= total, {
    timeoutMs: 10_000,
    intervalMs: 20,
    description: `${total} exposure events`,
  });
  await reader.stop();
  const events = values.map((value) => {
    const decoded = decodeEvent(value);
    if (!decoded.ok) throw new Error(`${decoded.reason}: ${value.toString("utf8")}`);
    return decoded.event;
  });
  return {
    requests: events.filter((e): e is RecommendationRequest => e.type === "reco.request"),
    responses: events.filter((e): e is RecommendationResponse => e.type === "reco.response"),
  };
}

describe("RecommendationService: cached text, splice and exposure", () => {
  let harness: RecommenderHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (options: Parameters<typeof recommenderHarness>[0] = {}) =>
    (harness = await recommenderHarness(options));
  const recommendText = (userId: string, k: number, context: RequestContext = {}) =>
    harness!.service.recommendJson({ userId, k, exclude: [], context });

  it("caches an answer as two lines: its exposure fields as JSON, then the body without recId and cached", async () => {
    const cache = new KeyNotingCache();
    const h = await start({ cache });
    const { recId: _recId, cached: _cached, ...computed } = await h.recommend("u0", 3);
    expect(computed).toEqual({
      userId: "u0",
      items: U0_TOP3,
      modelVersion: "m@v1",
      fallback: false,
    });

    expect(cache.textKeys).toHaveLength(1);
    expect(cache.textKeys[0]!.startsWith("rec:u0:")).toBe(true);
    const stored = await cache.getText(cache.textKeys[0]!);
    const lines = stored!.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]!.startsWith('{"itemIds":')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      itemIds: ["i0", "i7", "i8"],
      modelVersion: "m@v1",
      fallback: false,
    });
    expect(lines[1]).toBe(JSON.stringify(computed));
  });

  it("serves a hit as the stored text: the body is spliced verbatim (never parsed) and the first line is what reco.responses logs", async () => {
    const cache = new KeyNotingCache();
    const h = await start({ cache });
    const { recId: _recId, cached: _cached, ...computed } = await h.recommend("u0", 3);
    const key = cache.textKeys[0]!;
    // What is served must come from here: other titles, and spacing and line breaks that no
    // JSON.stringify(answer) on the serving path produces (a parse + re-serialise would lose them).
    const planted = {
      ...computed,
      items: computed.items.map((item) => ({ ...item, title: `cached ${item.itemId}` })),
    };
    const body = JSON.stringify(planted, null, 2);
    const meta = {
      itemIds: ["p1", "p2"],
      modelVersion: "m@v1",
      experimentKey: "from-cache",
      variant: "cached-arm",
      fallback: false,
    };
    await cache.setText(key, `${JSON.stringify(meta)}\n${body}`);

    const text = await recommendText("u0", 3);
    const recId = (JSON.parse(text) as Recommendation).recId;
    expect(text).toBe(`{"recId":"${recId}","cached":true,${body.slice(1)}`);
    expect(JSON.parse(text)).toEqual({ recId, cached: true, ...planted });
    expect(h.model.requests).toHaveLength(1); // the first answer only: the hit never reached the model
    expect(await h.metrics.value(h.metrics.cacheRequests, { result: "hit" })).toBe(1);

    const { responses } = await published(h);
    expect(responses.find((r) => r.recId === recId)).toMatchObject({ ...meta, cacheHit: true });
  });

  const foreign: [string, (meta: string, body: string) => string][] = [
    ["the body alone (a JSON answer without the meta line)", (_meta, body) => body],
    ["another format's first line, then a body", (_meta, body) => `{"v":2}\n${body}`],
    ["the meta line without a body", (meta) => meta],
    ["the meta line, then something that is not an object", (meta) => `${meta}\n[1]`],
    ["an empty text", () => ""],
  ];
  it.each(foreign)("treats anything else under the key as a miss: %s", async (_name, make) => {
    const cache = new KeyNotingCache();
    const h = await start({ cache });
    const first = await h.recommend("u0", 3);
    const key = cache.textKeys[0]!;
    const [meta, body] = (await cache.getText(key))!.split("\n") as [string, string];
    const other = make(meta, body);
    await cache.setText(key, other);

    const again = await h.recommend("u0", 3);
    expect(again.cached).toBe(false);
    const { recId: _a, ...recomputed } = again;
    const { recId: _b, ...original } = first;
    expect(recomputed).toEqual(original);
    expect(h.model.requests).toHaveLength(2);
    expect(await h.metrics.value(h.metrics.cacheRequests, { result: "miss" })).toBe(2);
    expect(await h.metrics.value(h.metrics.cacheRequests, { result: "hit" })).toBe(0);
    // ... and the answer is written back in the cached format, so the next request hits.
    expect(await cache.getText(key)).toBe(`${meta}\n${body}`);
    expect((await h.recommend("u0", 3)).cached).toBe(true);
  });

  it("splices recId and cached into the body: valid JSON equal to the computed answer plus both, on a miss and on a hit", async () => {
    await start({ resolution: { ref: REF, experimentKey: "exp-1", variant: "treatment" } });
    const awkward = 'ü "quoted" \\ back\u2028slash';
    const expected = [
      {
        userId: "u0",
        k: 3,
        answer: {
          userId: "u0",
          items: U0_TOP3,
          modelVersion: "m@v1",
          fallback: false,
          experimentKey: "exp-1",
          variant: "treatment",
        },
      },
      {
        userId: awkward,
        k: 2,
        answer: {
          userId: awkward,
          items: [
            { itemId: "i19", score: 100, title: "T i19", reason: "popular" },
            { itemId: "i18", score: 99, title: "T i18", reason: "popular" },
          ],
          modelVersion: "m@v1",
          fallback: false,
          experimentKey: "exp-1",
          variant: "treatment",
        },
      },
    ];
    const recIds = new Set<string>();
    for (const { userId, k, answer } of expected) {
      for (const cached of [false, true]) {
        const text = await recommendText(userId, k);
        const parsed = JSON.parse(text) as Recommendation;
        expect(Object.keys(parsed).slice(0, 2)).toEqual(["recId", "cached"]);
        expect(parsed.recId).toMatch(UUID);
        recIds.add(parsed.recId);
        expect(parsed).toEqual({ recId: parsed.recId, cached, ...answer });
      }
    }
    expect(recIds.size).toBe(4); // a new recId per request, hits included
  });

  const scenarios: {
    name: string;
    options: Parameters<typeof recommenderHarness>[0];
    context: RequestContext;
    k: number;
    /** What reco.responses must carry (and nothing else of the kind). */
    exposure: Partial<RecommendationResponse>;
    itemIds: string[];
    /** cacheHit of the first and the second identical request. */
    hits: [boolean, boolean];
  }[] = [
    {
      name: "a model answer in an experiment arm, then its cache hit",
      options: { resolution: { ref: REF, experimentKey: "exp-1", variant: "treatment" } },
      context: { device: "tv", country: "FR" },
      k: 3,
      exposure: {
        modelVersion: "m@v1",
        experimentKey: "exp-1",
        variant: "treatment",
        fallback: false,
      },
      itemIds: ["i0", "i7", "i8"],
      hits: [false, true],
    },
    {
      name: "a model answer outside experiments (no arm fields)",
      options: {},
      context: {},
      k: 3,
      exposure: { modelVersion: "m@v1", fallback: false },
      itemIds: ["i0", "i7", "i8"],
      hits: [false, true],
    },
    {
      name: "a fallback with its reason, never cached",
      options: { model: { failWith: new Error("session crashed") } },
      context: {},
      k: 2,
      exposure: { modelVersion: "m@v1", fallback: true, fallbackReason: "inference_error" },
      itemIds: ["i19", "i18"],
      hits: [false, false],
    },
    {
      name: "no model to serve: popularity as a fallback",
      options: { resolution: { ref: null } },
      context: { country: "DE" },
      k: 2,
      exposure: { modelVersion: "popularity", fallback: true, fallbackReason: "no_model" },
      itemIds: ["i19", "i18"],
      hits: [false, false],
    },
    {
      name: "an arm serving popularity by design (not a fallback), then its cache hit",
      options: { resolution: { ref: null, experimentKey: "exp-2", variant: "popular" } },
      context: {},
      k: 2,
      exposure: {
        modelVersion: "popularity",
        experimentKey: "exp-2",
        variant: "popular",
        fallback: false,
      },
      itemIds: ["i19", "i18"],
      hits: [false, true],
    },
  ];
  it.each(scenarios)(
    "carries the exposure fields into reco.requests/reco.responses: $name",
    async ({ options, context, k, exposure, itemIds, hits }) => {
      const h = await start(options);
      const answers: Recommendation[] = [];
      for (let i = 0; i < 2; i++) answers.push(await h.recommend("u0", k, { context }));
      expect(answers.map((a) => a.cached)).toEqual(hits);

      const { requests, responses } = await published(h);
      expect(requests).toHaveLength(2);
      expect(responses).toHaveLength(2);
      answers.forEach((answer, i) => {
        // The body and the exposure agree, and both carry exactly the expected fields.
        expect(answer).toMatchObject(exposure);
        for (const field of ["experimentKey", "variant", "fallbackReason"] as const)
          if (!(field in exposure)) expect(answer).not.toHaveProperty(field);
        const envelope = {
          schemaVersion: 1,
          eventId: expect.any(String),
          eventTime: expect.any(String),
          userId: "u0",
          recId: answer.recId,
        };
        const request = requests.find((r) => r.recId === answer.recId);
        const response = responses.find((r) => r.recId === answer.recId);
        expect(request).toEqual({
          ...envelope,
          type: "reco.request",
          k,
          ...(Object.keys(context).length ? { context } : {}),
        });
        expect(response).toEqual({
          ...envelope,
          type: "reco.response",
          itemIds,
          ...exposure,
          cacheHit: hits[i],
          latencyMs: expect.any(Number),
          status: 200,
        });
        expect(answer.items.map((item) => item.itemId)).toEqual(itemIds);
        expect(request!.eventId).not.toBe(response!.eventId);
      });
    },
  );
});
