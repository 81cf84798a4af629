/**
 * Browser sessions over HTTP, on the whole api (security fixture): sign-in with email and password,
 * the CSRF check on mutations (token missing, wrong, foreign Origin → 403), the role from the
 * account (viewer → 403 on an engineer's mutation), sign-out ending the session server-side, one
 * answer for an unknown email and a wrong password, and the failed sign-in limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, startSecurityApp, type SecurityApp } from "./security-fixture.ts";

let server: SecurityApp;

beforeAll(async () => {
  server = await startSecurityApp({ logLevel: "warn" });
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function signIn(email: string, password: string) {
  return send(server, "POST", "/trpc/session.signIn", {
    body: JSON.stringify({ email, password }),
  });
}

async function sessionOf(role: "viewer" | "engineer" | "admin") {
  const answer = await signIn(`${role}@reco.test`, `${role} password 1`);
  expect(answer.status, answer.text).toBe(200);
  const { token, csrfToken } = answer.body.result.data as { token: string; csrfToken: string };
  return { cookie: `reco_session=${token}`, csrf: csrfToken };
}

/** An admin's mutation (creates a client key): allowed only with the session's CSRF token. */
const engineerMutation = (headers: Record<string, string>) =>
  send(server, "POST", "/trpc/apiKeys.create", {
    body: JSON.stringify({ name: "from a session", role: "client" }),
    headers,
  });

describe("browser sessions", () => {
  it("whoami answers for the account; the token is 256 bits", async () => {
    const session = await sessionOf("viewer");
    expect(session.cookie).toMatch(/^reco_session=[A-Za-z0-9_-]{43}$/);
    const whoami = await send(server, "GET", "/trpc/session.whoami", {
      headers: { cookie: session.cookie },
    });
    expect(whoami.status).toBe(200);
    expect(whoami.body.result.data).toMatchObject({
      role: "viewer",
      kind: "account",
      email: "viewer@reco.test",
      may: { changeModels: false, manageKeys: false },
    });
  });

  it("a mutation without the CSRF token, with a wrong one, or from another Origin is 403", async () => {
    const admin = await sessionOf("admin");
    const missing = await engineerMutation({ cookie: admin.cookie });
    expect(missing.status).toBe(403);
    expect(missing.text).toContain("CSRF");
    const wrong = await engineerMutation({
      cookie: admin.cookie,
      "x-csrf-token": "A" + admin.csrf.slice(1),
    });
    expect(wrong.status).toBe(403);
    const foreign = await engineerMutation({
      cookie: admin.cookie,
      "x-csrf-token": admin.csrf,
      origin: "https://evil.example",
    });
    expect(foreign.status).toBe(403);
    const allowed = await engineerMutation({ cookie: admin.cookie, "x-csrf-token": admin.csrf });
    expect(allowed.status).toBe(200);
    expect(allowed.body.result.data.key).toMatch(/^reco_/);
  });

  it("a viewer's session with a valid CSRF token still gets 403 on an engineer's mutation", async () => {
    const viewer = await sessionOf("viewer");
    const answer = await send(server, "POST", "/trpc/models.setStage", {
      body: JSON.stringify({ version: 1, stage: "archived" }),
      headers: { cookie: viewer.cookie, "x-csrf-token": viewer.csrf },
    });
    expect(answer.status).toBe(403);
    expect(answer.text).toContain("needs role engineer");
  });

  it("queries need no CSRF token; sign-out (which needs it) ends the session server-side", async () => {
    const engineer = await sessionOf("engineer");
    const counts = await send(server, "GET", "/trpc/stats.counts", {
      headers: { cookie: engineer.cookie },
    });
    expect(counts.status).toBe(200);
    const noToken = await send(server, "POST", "/trpc/session.signOut", {
      body: "{}",
      headers: { cookie: engineer.cookie },
    });
    expect(noToken.status).toBe(403);
    const out = await send(server, "POST", "/trpc/session.signOut", {
      body: "{}",
      headers: { cookie: engineer.cookie, "x-csrf-token": engineer.csrf },
    });
    expect(out.status).toBe(200);
    const after = await send(server, "GET", "/trpc/stats.counts", {
      headers: { cookie: engineer.cookie },
    });
    expect(after.status).toBe(401);
  });

  it("an unknown email and a wrong password get the same 401 answer", async () => {
    const unknown = await signIn("nobody@reco.test", "pm password 1");
    const wrong = await signIn("pm@reco.test", "not the password");
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });

  it("after 5 failed sign-ins for an email, the next attempt gets 429, even with the right password", async () => {
    for (let i = 0; i < 5; i += 1) {
      expect((await signIn("admin@reco.test", `wrong password ${i}`)).status).toBe(401);
    }
    const limited = await signIn("admin@reco.test", "admin password 1");
    expect(limited.status).toBe(429);
  });
});
