/**
 * Fuzzing the REST inputs with fast-check against the real server in-process (embedded adapters):
 * arbitrary path parameters, query strings and JSON bodies — deeply nested, huge numbers, any
 * Unicode (lone surrogates too), prototype-pollution keys — never get a 5xx, always get the error
 * shape, and leave Object.prototype alone. Runs are bounded (a few seconds); a failure prints
 * fast-check's seed and the shrunk input.
 */
import fc from "fast-check";
import { appRouter } from "@reco/api-router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, startSecurityApp, type Answer, type SecurityApp } from "./security-fixture.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
let server: SecurityApp;

beforeAll(async () => {
  server = await startSecurityApp({ logLevel: "silent" });
  // a running experiment, so valid exposure/outcome bodies reach the service, not just a 404
  for (const [procedure, input] of [
    [
      "experiments.create",
      {
        key: "e1",
        hypothesis: "fuzzing",
        owner: "pm@example.com",
        primaryMetric: "click_through",
        variants: [
          { name: "control", weight: 50, strategy: "default" },
          { name: "treatment", weight: 50, strategy: "popularity" },
        ],
      },
    ],
    ["experiments.start", { key: "e1" }],
  ] as const) {
    const answer = await send(server, "POST", `/trpc/${procedure}`, {
      key: server.keys.pm,
      body: JSON.stringify(input),
    });
    if (answer.status !== 200) throw new Error(`${procedure}: ${answer.status} ${answer.text}`);
  }
}, 120_000);
afterAll(async () => {
  await server?.close();
});

// ---- arbitraries -------------------------------------------------------------------------------

const POLLUTING = [
  "__proto__",
  "constructor",
  "prototype",
  "__defineGetter__",
  "toString",
  "hasOwnProperty",
];
const FIELDS = [
  "userId",
  "itemId",
  "type",
  "value",
  "recId",
  "ts",
  "context",
  "events",
  "kind",
  "rating",
  "eventId",
  "device",
  "country",
];

/** Any Unicode text: code points of every plane, lone surrogates, control characters, long runs. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    ...POLLUTING,
    "",
    " ",
    "..",
    "%",
    "\u0000",
    "\ud800",
    "\udfff",
    "😀".repeat(200),
    "a".repeat(300),
    "1e309",
    "-0",
    "NaN",
    "Infinity",
    "null",
    "[]",
    "{}",
  ),
);

/** Number literals as JSON text: huge, tiny, negative zero, past double precision. */
const numberText = fc.oneof(
  fc.double().filter(Number.isFinite).map(String),
  fc.integer().map(String),
  fc.constantFrom(
    "1e309",
    "-1e309",
    "1e-400",
    "-0",
    "123456789012345678901234567890",
    "9007199254740993",
    "0.1e1",
    "5",
    "1",
    "100",
    "101",
  ),
);

const quote = (value: string) => JSON.stringify(value); // lone surrogates come out escaped

/** A JSON text of any shape, with keys that pollute and keys the routes read. */
const json: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text.map(quote),
    numberText,
    fc.constantFrom("true", "false", "null"),
    fc.array(tie("value"), { maxLength: 5 }).map((items) => `[${items.join(",")}]`),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...POLLUTING, ...FIELDS), text), tie("value")), {
        maxLength: 6,
      })
      .map((entries) => `{${entries.map(([k, v]) => `${quote(k)}:${v}`).join(",")}}`),
  ),
})).value;

/** Nested far deeper than any schema: arrays or objects, thousands of levels. */
const deep = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? "[".repeat(depth) + "]".repeat(depth)
      : '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
  );

/** Bodies shaped like the real ones, with each field hostile. */
const field = fc.oneof(json, deep, text.map(quote), numberText);
const feedbackLike = fc
  .record({
    userId: field,
    itemId: field,
    type: fc.oneof(fc.constantFrom('"watch"', '"rate"', '"click"'), field),
    value: field,
    context: fc.oneof(field, deep),
    ts: field,
    recId: field,
    extra: fc.constantFrom(...POLLUTING),
  })
  .map(
    ({ extra, ...fields }) =>
      `{${Object.entries(fields)
        .map(([k, v]) => `${quote(k)}:${v}`)
        .join(",")},${quote(extra)}:{"polluted":true}}`,
  );
const body = fc.oneof(
  json,
  deep,
  feedbackLike,
  feedbackLike.map((event) => `{"events":[${event},${event}]}`),
  fc.array(feedbackLike, { maxLength: 3 }).map((events) => `{"events":[${events.join(",")}]}`),
  fc.string({ unit: "binary", maxLength: 200 }), // not JSON at all
  fc.constantFrom(
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"userId":"3","kind":"rating","rating":1e309}',
    '{"userId":"3","itemId":"5","type":"rate","value":1e309}',
  ),
);

/** UTF-8 percent-encoding of every byte (lone surrogates become U+FFFD), or raw malformed escapes. */
function encode(value: string): string {
  return [...Buffer.from(value, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}
const pathSegment = fc.oneof(
  text.filter((s) => s.length > 0).map(encode),
  fc.constantFrom(
    "%",
    "%zz",
    "%E0%A4%A",
    "%C0%AE",
    "%00",
    "..%2f..",
    "%2e%2e",
    "__proto__",
    "constructor",
    "3",
    "5",
  ),
);
const queryPart = fc.oneof(
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          "k",
          "exclude",
          "device",
          "country",
          "k[]",
          "exclude[0]",
          "__proto__",
          "__proto__[polluted]",
          "constructor[prototype][polluted]",
          "k.toString",
        ),
        text.map(encode),
      ),
      fc.oneof(numberText, text).map(encode),
    )
    .map(([k, v]) => `${k}=${v}`),
  fc.constantFrom(
    "k",
    "k=",
    "=",
    "&",
    "k=1&k=2",
    "k=%",
    "k=%zz",
    "exclude=,,,",
    "k=0x10",
    "k=1e2",
    "k= 5",
    "k=5.0",
  ),
);
const query = fc
  .array(queryPart, { maxLength: 5 })
  .map((parts) => (parts.length ? `?${parts.join("&")}` : ""));

// ---- checks ------------------------------------------------------------------------------------

function assertSane(label: string, answer: Answer): void {
  if (answer.status >= 500)
    throw new Error(`${label} → ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (answer.status >= 400) {
    const error = (answer.body as { error?: { code?: unknown; message?: unknown } })?.error;
    if (typeof error?.code !== "string" || typeof error.message !== "string" || !error.message)
      throw new Error(
        `${label} → ${answer.status} without {error:{code,message}}: ${answer.text.slice(0, 300)}`,
      );
  }
  if (({} as Record<string, unknown>).polluted !== undefined)
    throw new Error(`${label} polluted Object.prototype`);
}

const GET_ROUTES = ["/recommend/:a", "/similar/:a", "/items/:a", "/experiments/:a/assignment/:b"];
const BODY_ROUTES = ["/feedback", "/experiments/:a/exposures", "/experiments/:a/outcomes"];

describe("fuzzing the REST inputs never gets a 5xx", () => {
  it(`arbitrary path parameters and query strings on every GET route (${RUNS} runs)`, async () => {
    let served = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...GET_ROUTES),
        pathSegment,
        pathSegment,
        query,
        async (route, a, b, q) => {
          const url = route.replace(":a", a).replace(":b", b) + q;
          const answer = await send(server, "GET", url, { key: server.keys.client });
          if (answer.status === 200) served += 1;
          assertSane(`GET ${url}`, answer);
        },
      ),
      { numRuns: RUNS },
    );
    expect(served).toBeGreaterThan(0); // some inputs were valid and answered, not all refused
  });

  it(`arbitrary user ids on the user data routes, admin key (${RUNS} runs)`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET /users/:a/export", "DELETE /users/:a"),
        pathSegment,
        async (route, a) => {
          const [method, path] = route.split(" ") as [string, string];
          const url = path.replace(":a", a);
          const answer = await send(server, method, url, { key: server.keys.admin });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          assertSane(`${method} ${url}`, answer);
        },
      ),
      { numRuns: RUNS },
    );
    expect(statuses.get(404) ?? 0).toBeGreaterThan(0); // unknown users reached the handler
  });

  it(`arbitrary JSON bodies on every body route (${RUNS * 2} runs)`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        fc.oneof(pathSegment, fc.constant("e1")),
        body,
        query,
        async (route, a, payload, q) => {
          const url = route.replace(":a", a) + q;
          const answer = await send(server, "POST", url, {
            key: server.keys.client,
            body: payload,
          });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          assertSane(`POST ${url} ${payload.slice(0, 200)}`, answer);
        },
      ),
      { numRuns: RUNS * 2 },
    );
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  });

  it("the valid shapes inside the fuzzed space are accepted (the fuzz reaches the handlers)", async () => {
    const feedback = await send(server, "POST", "/feedback", {
      key: server.keys.client,
      body: '{"userId":"3","itemId":"5","type":"rate","value":4,"context":{"device":"web"}}',
    });
    expect(feedback.status).toBe(202);
    const outcome = await send(server, "POST", "/experiments/e1/outcomes", {
      key: server.keys.client,
      body: '{"userId":"3","kind":"click"}',
    });
    expect(outcome.status).toBe(200);
  });

  it("arbitrary headers that carry a key or a content type", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(text, fc.constant(server.keys.client)),
        fc.constantFrom("authorization", "x-api-key"),
        fc.oneof(
          fc.constantFrom(
            "application/json",
            "application/json; charset=latin1",
            "application/json; charset=utf-16",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/JSON",
            "",
          ),
          text,
        ),
        body,
        async (key, header, contentType, payload) => {
          const safe = (value: string) => value.replace(/[^\t\x20-\x7e]/g, "?"); // header values are Latin-1
          const answer = await send(server, "POST", "/feedback", {
            headers: { [header]: safe(header === "authorization" ? `Bearer ${key}` : key) },
            body: payload,
            contentType: safe(contentType),
          });
          assertSane(`POST /feedback (${header}, ${contentType})`, answer);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`arbitrary JSON inputs to every tRPC procedure, as an admin (${RUNS} runs)`, async () => {
    const procedures = Object.entries(
      appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
    ).map(([name, procedure]) => ({ name, type: procedure._def.type }));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...procedures),
        fc.oneof(json, feedbackLike),
        async ({ name, type }, input) => {
          const answer =
            type === "query"
              ? await send(server, "GET", `/trpc/${name}?input=${encode(input)}`, {
                  key: server.keys.admin,
                })
              : await send(server, "POST", `/trpc/${name}`, {
                  key: server.keys.admin,
                  body: input,
                });
          if (answer.status >= 500)
            throw new Error(
              `tRPC ${name} ${input.slice(0, 200)} → ${answer.status}: ${answer.text.slice(0, 300)}`,
            );
          if (({} as Record<string, unknown>).polluted !== undefined)
            throw new Error(`tRPC ${name} polluted Object.prototype`);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
