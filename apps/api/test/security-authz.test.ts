/**
 * The authorisation matrix: every tRPC procedure of the router and every REST route Fastify has
 * registered, called with no key, an unknown key, a revoked key and a key of each role. What each
 * may do comes from the table below, written from the READMEs (apps/api/README.md "Routes" and
 * "Procedures"), not from the code's own role metadata; a procedure or route missing from the table
 * fails the test, so a new one must be classified before it ships.
 */
import { appRouter } from "@reco/api-router";
import { ACCOUNT_ROLES, ROLES, type Role } from "@reco/serving";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRoutes, send, startSecurityApp, type SecurityApp } from "./security-fixture.ts";

/** Who may call what: "public" (no key), or the least role the docs name. */
type Need = "public" | "client" | "viewer" | "pm" | "engineer" | "admin";

/**
 * From the docs: "client keys call the serving routes (admin keys may too); dashboard roles are
 * ranked viewer < pm < engineer < admin".
 */
const MAY: Record<Exclude<Need, "public">, readonly Role[]> = {
  client: ["client", "admin"],
  viewer: ["viewer", "pm", "engineer", "admin"],
  pm: ["pm", "engineer", "admin"],
  engineer: ["engineer", "admin"],
  admin: ["admin"],
};

/** Every tRPC procedure: reading is for viewers; PMs run experiments; engineers models and rollouts. */
const PROCEDURES: Record<string, Need> = {
  "stats.counts": "viewer",
  "stats.health": "viewer",
  "session.whoami": "viewer",
  "session.signIn": "public",
  "session.signOut": "viewer",
  "accounts.list": "admin",
  "accounts.create": "admin",
  "accounts.setRole": "admin",
  "accounts.setPassword": "admin",
  "accounts.disable": "admin",
  "accounts.enable": "admin",
  "apiKeys.list": "admin",
  "apiKeys.create": "admin",
  "apiKeys.revoke": "admin",
  "experiments.list": "viewer",
  "experiments.get": "viewer",
  "experiments.results": "viewer",
  "experiments.create": "pm",
  "experiments.edit": "pm",
  "experiments.start": "pm",
  "experiments.stop": "pm",
  "experiments.conclude": "pm",
  "models.list": "viewer",
  "models.get": "viewer",
  "models.setStage": "engineer",
  "monitoring.series": "viewer",
  "rollouts.list": "viewer",
  "rollouts.get": "viewer",
  "rollouts.defaults": "viewer",
  "rollouts.start": "engineer",
  "rollouts.act": "engineer",
  "retraining.status": "viewer",
  "retraining.runs": "viewer",
  "retraining.trigger": "engineer",
  "recommendations.versions": "viewer",
  "recommendations.searchUsers": "viewer",
  "recommendations.searchItems": "viewer",
  "recommendations.history": "viewer",
  "recommendations.forUser": "viewer",
  "recommendations.similar": "viewer",
  "recommendations.foldIn": "viewer",
};

/**
 * Every REST route (GET routes answer HEAD too). `/trpc/:path` is the procedures above, one route
 * for all of them; `OPTIONS *` is CORS preflight, which never runs a handler.
 */
const ROUTES: Record<string, Need | "trpc" | "preflight"> = {
  "GET /healthz": "public",
  "GET /readyz": "public",
  "GET /metrics": "public",
  "GET /openapi.json": "public",
  "GET /recommend/:userId": "client",
  "GET /similar/:itemId": "client",
  "POST /feedback": "client",
  "GET /items/:itemId": "client",
  "PUT /items/:itemId": "engineer",
  "PATCH /items/:itemId": "engineer",
  "DELETE /items/:itemId": "engineer",
  "POST /items/bulk": "engineer",
  "DELETE /users/:userId": "admin",
  "GET /users/:userId/export": "admin",
  "GET /experiments/:key/assignment/:userId": "client",
  "POST /experiments/:key/exposures": "client",
  "POST /experiments/:key/outcomes": "client",
  "ALL /trpc/:path": "trpc",
  "OPTIONS *": "preflight",
};

/** Sample values for path parameters and bodies, valid in shape so an allowed call gets past validation. */
const PARAMS: Record<string, string> = { userId: "3", itemId: "5", key: "no-such-experiment" };
const BODIES: Record<string, unknown> = {
  "POST /feedback": { userId: "3", itemId: "5", type: "click" },
  "PUT /items/:itemId": { title: "Five" },
  "PATCH /items/:itemId": { title: "Five" },
  "POST /items/bulk": { items: [{ itemId: "5", title: "Five" }] },
  "POST /experiments/:key/exposures": { userId: "3" },
  "POST /experiments/:key/outcomes": { userId: "3", kind: "click" },
};

/**
 * A caller sends an API key, or a session cookie (then its CSRF token goes with every mutation,
 * as the dashboard sends it; `signIn` renews the session after the matrix signs it out).
 */
type Caller = {
  name: string;
  key?: string;
  role?: Role;
  session?: { cookie: string; csrf: string };
  signIn?: () => Promise<{ cookie: string; csrf: string }>;
};

let server: SecurityApp;
let callers: Caller[];

beforeAll(async () => {
  server = await startSecurityApp({ logLevel: "warn" });
  callers = [
    { name: "no key" },
    { name: "unknown key", key: "reco_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
    { name: "malformed key", key: "not-a-key" },
    { name: "revoked admin key", key: server.revokedKey },
    ...ROLES.map((role) => ({ name: `${role} key`, key: server.keys[role], role })),
    { name: "unknown session", session: { cookie: "reco_session=" + "A".repeat(43), csrf: "x" } },
  ];
  for (const role of ACCOUNT_ROLES) {
    const signIn = () => signInAs(role);
    callers.push({ name: `${role} session`, role, session: await signIn(), signIn });
  }
}, 120_000);

/** Signs in over HTTP as the fixture's account for `role`: the cookie and CSRF token to send. */
async function signInAs(role: (typeof ACCOUNT_ROLES)[number]) {
  const answer = await send(server, "POST", "/trpc/session.signIn", {
    body: JSON.stringify({ email: `${role}@reco.test`, password: server.accountPasswords[role] }),
  });
  expect(answer.status, answer.text).toBe(200);
  const data = answer.body.result.data as { token: string; csrfToken: string };
  return { cookie: `reco_session=${data.token}`, csrf: data.csrfToken };
}

/** The headers a caller's session adds (cookie always, CSRF token on mutations). */
function sessionHeaders(caller: Caller, mutation: boolean): Record<string, string> {
  if (!caller.session) return {};
  return mutation
    ? { cookie: caller.session.cookie, "x-csrf-token": caller.session.csrf }
    : { cookie: caller.session.cookie };
}
afterAll(async () => {
  await server?.close();
});

/** The status a caller must get, or "allowed" (anything but 401/403, and never a 5xx). */
function expected(need: Need, caller: Caller): 401 | 403 | "allowed" {
  if (need === "public") return "allowed";
  if (caller.role === undefined) return 401;
  return MAY[need].includes(caller.role) ? "allowed" : 403;
}

function check(what: string, caller: Caller, need: Need, status: number): string | null {
  const want = expected(need, caller);
  const ok =
    want === "allowed" ? status !== 401 && status !== 403 && status < 500 : status === want;
  return ok ? null : `${what} as ${caller.name}: got ${status}, expected ${want}`;
}

/** Collapses Fastify's per-method list into the table's keys. */
function restRouteKeys(): string[] {
  const byUrl = new Map<string, Set<string>>();
  for (const { method, url } of listRoutes(server.app)) {
    if (!byUrl.has(url)) byUrl.set(url, new Set());
    byUrl.get(url)!.add(method);
  }
  const keys: string[] = [];
  for (const [url, methods] of byUrl) {
    if (methods.has("POST") && methods.has("GET") && methods.has("DELETE")) {
      keys.push(`ALL ${url}`); // fastify.all
      continue;
    }
    for (const method of methods) {
      if (method === "HEAD" && methods.has("GET")) continue; // Fastify's automatic HEAD, checked with its GET
      keys.push(`${method} ${url}`);
    }
  }
  return keys;
}

describe("authorisation matrix", () => {
  it("every tRPC procedure of the router is classified in the table, and nothing else is", () => {
    const procedures = Object.keys(appRouter._def.procedures).sort();
    expect(procedures.filter((name) => !(name in PROCEDURES))).toEqual([]);
    expect(Object.keys(PROCEDURES).filter((name) => !procedures.includes(name))).toEqual([]);
    expect(procedures.length).toBeGreaterThanOrEqual(22);
  });

  it("every REST route Fastify registered is classified in the table, and nothing else is", () => {
    const registered = restRouteKeys().sort();
    expect(registered.filter((route) => !(route in ROUTES))).toEqual([]);
    expect(Object.keys(ROUTES).filter((route) => !registered.includes(route))).toEqual([]);
  });

  it("every tRPC procedure × every caller answers as the table says (401 / 403 / allowed)", async () => {
    const failures: string[] = [];
    let calls = 0;
    // typed as the nested router record; at run time a flat record keyed by dotted path
    const procedures = appRouter._def.procedures as unknown as Record<
      string,
      { _def: { type: string } }
    >;
    for (const [name, procedure] of Object.entries(procedures)) {
      const need = PROCEDURES[name];
      if (need === undefined) continue; // reported by the classification test
      const type = procedure._def.type;
      for (const caller of callers) {
        // Empty input: an allowed caller gets past the role check and is answered 200 or 400
        // by validation, with no side effect; a refused one never reaches validation.
        const answer =
          type === "query"
            ? await send(server, "GET", `/trpc/${name}?input=${encodeURIComponent("{}")}`, {
                key: caller.key,
                headers: sessionHeaders(caller, false),
              })
            : await send(server, "POST", `/trpc/${name}`, {
                key: caller.key,
                body: "{}",
                headers: sessionHeaders(caller, true),
              });
        calls += 1;
        if (name === "session.signOut" && caller.signIn) caller.session = await caller.signIn();
        const problem = check(`tRPC ${name}`, caller, need, answer.status);
        if (problem) failures.push(`${problem} (${answer.text.slice(0, 160)})`);
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBe(Object.keys(PROCEDURES).length * callers.length);
  });

  it("every REST route × every caller (Bearer and X-API-Key, GET and HEAD) answers as the table says", async () => {
    const failures: string[] = [];
    let calls = 0;
    for (const route of restRouteKeys()) {
      const need = ROUTES[route];
      if (need === undefined || need === "trpc" || need === "preflight") continue;
      const [method, pattern] = route.split(" ") as [string, string];
      const url = pattern.replace(/:(\w+)/g, (_, param: string) => PARAMS[param] ?? "x");
      const methods = method === "GET" ? ["GET", "HEAD"] : [method];
      for (const sent of callers) {
        // Sessions are for the dashboard's tRPC only: REST routes take API keys (401 otherwise).
        const caller = sent.session ? { ...sent, role: undefined } : sent;
        for (const verb of methods) {
          for (const keyHeader of ["authorization", "x-api-key"] as const) {
            const body = BODIES[route];
            const answer = await send(server, verb, url, {
              key: caller.key,
              keyHeader,
              body: body === undefined ? undefined : JSON.stringify(body),
              headers: sessionHeaders(sent, verb !== "GET" && verb !== "HEAD"),
            });
            calls += 1;
            const problem = check(`${verb} ${url} (${keyHeader})`, caller, need, answer.status);
            if (problem) failures.push(`${problem} (${answer.text.slice(0, 160)})`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(100);
  });

  it("an allowed call is served for real: client key → recommendation, admin key → key list, viewer → whoami", async () => {
    const recommended = await send(server, "GET", "/recommend/3?k=5", { key: server.keys.client });
    expect(recommended.status).toBe(200);
    expect(recommended.body.items).toHaveLength(5);
    const listed = await send(server, "GET", "/trpc/apiKeys.list", { key: server.keys.admin });
    expect(listed.status).toBe(200);
    expect(listed.body.result.data.map((k: { role: string }) => k.role)).toEqual(
      expect.arrayContaining([...ROLES]),
    );
    const whoami = await send(server, "GET", "/trpc/session.whoami", { key: server.keys.viewer });
    expect(whoami).toMatchObject({ status: 200, body: { result: { data: { role: "viewer" } } } });
  });
});
