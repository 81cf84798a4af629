import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Locator, type Page } from "@playwright/test";

// The demo accounts prepare-demo seeded, from the file the banner prints (DATA_DIR of the e2e run).
const dataDir =
  process.env.E2E_DATA_DIR || path.resolve(import.meta.dirname, "../../../.cache/e2e-data");
function demoPassword(email: string): string {
  const line = readFileSync(path.join(dataDir, "demo-accounts.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((parts) => parts[1] === email);
  if (!line) throw new Error(`${email}: not in ${dataDir}/demo-accounts.txt`);
  return line[2]!;
}

async function signIn(page: Page, email: string) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(demoPassword(email));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/");
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "reco_session");
  expect(session?.httpOnly).toBe(true);
  const csrf = cookies.find((c) => c.name === "reco_csrf");
  expect(csrf?.httpOnly).toBe(false);
  return csrf!.value;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A tRPC query through the dashboard's proxy, as whoever the page is signed in as. */
async function query<T>(page: Page, procedure: string, input: unknown = {}): Promise<T> {
  const response = await page.request.get(
    `/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`,
  );
  expect(response.status(), `${procedure}: ${await response.text()}`).toBe(200);
  return ((await response.json()) as { result: { data: T } }).result.data;
}

/** A tRPC mutation through the proxy, with the CSRF header when given. */
const mutate = (page: Page, procedure: string, input: unknown, csrf?: string) =>
  page.request.post(`/api/trpc/${procedure}`, {
    headers: { "content-type": "application/json", ...(csrf ? { "x-csrf-token": csrf } : {}) },
    data: JSON.stringify(input),
  });

/**
 * Every control that changes something, by its accessible name (buttons and button-like links):
 * stages, experiments, rollouts, retraining, accounts and keys.
 */
const ACTION_NAMES =
  /^(set stage|new experiment|create draft|add variant|start|stop|conclude|start rollout|promote|promote to 100 %|pause|resume|abort|roll back|undo|retrain now|create account|create key|enable|disable|revoke)$/i;

async function expectNoActions(page: Page, where: string) {
  for (const role of ["button", "link"] as const) {
    const names = await page.getByRole(role).allInnerTexts();
    expect(
      names.map((n) => n.trim()).filter((n) => ACTION_NAMES.test(n)),
      `${role}s that change something on ${where}`,
    ).toEqual([]);
  }
  await expect(page.getByLabel("new stage")).toHaveCount(0);
  await expect(page.getByTestId("rollout-actions")).toHaveCount(0);
  await expect(page.getByTestId("retrain-now")).toHaveCount(0);
}

test("the seeded viewer sees no action button on any page, and its direct tRPC mutations get 403", async ({
  page,
}) => {
  // A draft experiment (its Start button is what a viewer must not see), made with the dashboard's
  // own admin key before signing in; the writes specs left a stopped one and rollouts.
  const draftKey = `e2e-viewer-${Date.now()}`;
  const created = await mutate(page, "experiments.create", {
    key: draftKey,
    hypothesis: "a viewer only reads it",
    primaryMetric: "click_through",
    trafficAllocation: 1,
    minSampleSize: 1000,
    variants: [
      { name: "control", weight: 50, isControl: true, strategy: "popularity" },
      { name: "treatment", weight: 50, isControl: false, strategy: "popularity" },
    ],
  });
  expect(created.status(), await created.text()).toBe(200);

  const csrf = await signIn(page, "viewer@reco.local");
  const whoami = await query<{ role: string; kind: string }>(page, "session.whoami");
  expect(whoami).toMatchObject({ role: "viewer", kind: "account" });
  await expect(page.getByTestId("nav-account")).toHaveText("viewer@reco.local (viewer)");
  await expect(
    page.getByRole("navigation").getByRole("link", { name: "Admin", exact: true }),
  ).toHaveCount(0);

  const experiments = await query<Array<{ key: string; status: string }>>(page, "experiments.list");
  const rollouts = await query<Array<{ id: number }>>(page, "rollouts.list");
  const models = await query<Array<{ name: string; version: string | number; stage: string }>>(
    page,
    "models.list",
  );
  expect(experiments.map((e) => e.status)).toEqual(expect.arrayContaining(["draft", "stopped"]));
  expect(rollouts.length).toBeGreaterThan(0);
  const candidate = models.find((m) => m.stage === "candidate");
  expect(candidate, "a candidate model version (its page offers a rollout)").toBeDefined();

  // Each page with what shows it has loaded the data its controls would depend on.
  type Visit = { path: string; heading: string | RegExp; ready?: (p: Page) => Locator };
  const pages: Visit[] = [
    { path: "/", heading: "Overview", ready: (p) => p.getByTestId("health-tiles") },
    {
      path: "/experiments",
      heading: "A/B experiments",
      ready: (p) => p.getByRole("link", { name: draftKey }),
    },
    {
      path: "/experiments/new",
      heading: "New experiment",
      ready: (p) => p.getByTestId("read-only"),
    },
    ...experiments.map((e) => ({
      path: `/experiments/${encodeURIComponent(e.key)}`,
      heading: `Experiment ${e.key}`,
      ready: (p: Page) => p.getByTestId("experiment-status"),
    })),
    { path: "/models", heading: "Model versions", ready: (p) => p.getByTestId("models-table") },
    ...models.map((m) => ({
      path: `/models/${encodeURIComponent(m.name)}/${encodeURIComponent(m.version)}`,
      // exactly: the model card's own heading holds the same words
      heading: new RegExp(`^${escapeRegExp(`${m.name} ${m.version}`)}$`),
      ready: (p: Page) => p.getByTestId("stage").first(),
    })),
    { path: "/rollouts", heading: "Rollouts", ready: (p) => p.getByTestId("rollouts-table") },
    ...rollouts.map((r) => ({
      path: `/rollouts/${r.id}`,
      heading: new RegExp(`^Rollout ${r.id}: `),
    })),
    { path: "/retraining", heading: "Retraining", ready: (p) => p.getByTestId("retraining-runs") },
    { path: "/recommendations", heading: "Recommendations" },
    { path: "/monitoring", heading: "Monitoring" },
    { path: "/admin", heading: "Admin", ready: (p) => p.locator("p.error") },
  ];
  for (const { path: pagePath, heading, ready } of pages) {
    await page.goto(pagePath);
    await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
    // The controls depend on the role (the nav shows it once known) and the page's data.
    await expect(page.getByTestId("nav-account")).toHaveText("viewer@reco.local (viewer)");
    if (ready) await expect(ready(page)).toBeVisible();
    await expectNoActions(page, pagePath);
  }
  // The pages that would offer a change say why they do not.
  await page.goto(`/experiments/${encodeURIComponent(draftKey)}`);
  await expect(page.getByTestId("read-only")).toContainText("viewer");
  await page.goto(
    `/models/${encodeURIComponent(candidate!.name)}/${encodeURIComponent(candidate!.version)}`,
  );
  await expect(page.getByTestId("read-only")).toContainText("engineers and admins");
  await page.goto("/admin");
  await expect(page.locator("p.error")).toContainText("Only admins manage accounts");
  await expect(page.getByRole("heading", { name: "Accounts" })).toHaveCount(0);

  // Straight to the api through the proxy, with a valid CSRF token: the role is refused (403) for
  // every kind of change.
  const attempts: Array<[procedure: string, input: unknown, needs: string]> = [
    ["retraining.trigger", {}, "engineer"],
    [
      "models.setStage",
      { name: candidate!.name, version: candidate!.version, stage: "retired" },
      "engineer",
    ],
    ["experiments.start", { key: draftKey }, "pm"],
    ["rollouts.act", { id: rollouts[0]!.id, action: "abort", version: 1 }, "engineer"],
    [
      "accounts.create",
      { email: "x@reco.local", name: "x", role: "admin", password: "p".repeat(16) },
      "admin",
    ],
    ["apiKeys.create", { name: "viewer's key", role: "admin" }, "admin"],
  ];
  for (const [procedure, input, needs] of attempts) {
    const refused = await mutate(page, procedure, input, csrf);
    expect(refused.status(), procedure).toBe(403);
    expect(await refused.text(), procedure).toContain(`needs role ${needs}`);
  }
  // Nothing changed: the draft is still a draft.
  const draft = await query<{ status: string }>(page, "experiments.get", { key: draftKey });
  expect(draft.status).toBe("draft");
});

test("a session's mutation without the CSRF header is refused, even for an engineer", async ({
  page,
}) => {
  const csrf = await signIn(page, "engineer@reco.local");
  const lastRun = async () =>
    (await query<Array<{ id: number }>>(page, "retraining.runs", { limit: 1 }))[0]?.id ?? null;
  const before = await lastRun();
  const withoutToken = await mutate(page, "retraining.trigger", {});
  expect(withoutToken.status()).toBe(403);
  expect(await withoutToken.text()).toContain("CSRF check failed");
  const wrongToken = await mutate(page, "retraining.trigger", {}, `${csrf}x`);
  expect(wrongToken.status()).toBe(403);
  expect(await wrongToken.text()).toContain("CSRF check failed");
  // No run was queued by either.
  expect(await lastRun()).toBe(before);
  // The engineer's own controls are there (the hiding is by role, not for everyone).
  await page.goto("/retraining");
  await expect(page.getByTestId("retrain-now")).toBeVisible();
  await expect(
    page.getByRole("navigation").getByRole("link", { name: "Admin", exact: true }),
  ).toHaveCount(0);
});

test("the seeded admin reaches /admin from the nav, creates an API key and sees it once", async ({
  page,
}) => {
  await signIn(page, "admin@reco.local");
  await page.getByRole("navigation").getByRole("link", { name: "Admin", exact: true }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Accounts" })).toBeVisible();
  await expect(page.getByRole("cell", { name: "viewer@reco.local" })).toBeVisible();
  const form = page.getByRole("form", { name: "New API key" });
  const name = `e2e program ${Date.now()}`; // unique: the product may be reused across runs
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Create key" }).click();
  const key = await page.getByTestId("new-key-value").textContent();
  expect(key).toMatch(/^reco_[0-9a-f]{12}_/);
  await expect(page.getByRole("cell", { name })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("cell", { name })).toBeVisible();
  await expect(page.getByTestId("new-key-value")).toHaveCount(0);
  expect(await page.content()).not.toContain(key!);
});
