import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";

// The api port and data directory the e2e product was started with (playwright.config.ts).
const apiUrl = `http://127.0.0.1:${process.env.E2E_API_PORT || 4310}`;
const dataDir =
  process.env.E2E_DATA_DIR || path.resolve(import.meta.dirname, "../../../.cache/e2e-data");
const ACTIVE = ["pending", "progressing", "paused"];

interface RolloutRow {
  id: number;
  modelName: string;
  status: string;
  version: number;
}

/** A tRPC call through the dashboard's proxy, as the signed-in key (the dev admin key by default). */
async function trpc<T>(page: Page, path: string, input?: unknown, mutation = false): Promise<T> {
  const response = mutation
    ? await page.request.post(`/api/trpc/${path}?batch=1`, { data: { 0: input } })
    : await page.request.get(
        `/api/trpc/${path}?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: input ?? {} }))}`,
      );
  expect(response.status(), `${path}: ${await response.text()}`).toBe(200);
  return ((await response.json()) as [{ result: { data: T } }])[0].result.data;
}

/** A call straight to the api's tRPC endpoint with a Bearer key. */
function actDirect(request: APIRequestContext, key: string, input: unknown) {
  return request.post(`${apiUrl}/trpc/rollouts.act`, {
    headers: { authorization: `Bearer ${key}` },
    data: input,
  });
}

/** Aborts every active rollout of item-knn-demo, straight through the api with the dev key. */
async function abortDemoRollouts(): Promise<void> {
  const key = readFileSync(path.join(dataDir, "dev-api-key"), "utf8").trim();
  const api = await request.newContext({
    baseURL: `${apiUrl}/trpc/`,
    extraHTTPHeaders: { authorization: `Bearer ${key}` },
  });
  const query = async <T>(procedure: string, input: unknown): Promise<T> => {
    const response = await api.get(
      `${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`,
    );
    expect(response.status(), `${procedure}: ${await response.text()}`).toBe(200);
    return ((await response.json()) as { result: { data: T } }).result.data;
  };
  try {
    const rows = await query<RolloutRow[]>("rollouts.list", { modelName: "item-knn-demo" });
    for (const row of rows.filter((r) => ACTIVE.includes(r.status))) {
      // the controller's evaluations move the version every second: read it again on a 409
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const { version } = await query<RolloutRow>("rollouts.get", { id: row.id });
        const aborted = await api.post("rollouts.act", {
          data: { id: row.id, action: "abort", version, reason: "e2e cleanup" },
        });
        if (aborted.status() !== 409) {
          expect(aborted.status(), await aborted.text()).toBe(200);
          break;
        }
      }
    }
  } finally {
    await api.dispose();
  }
}

test.describe.serial("canary rollouts in the dashboard", () => {
  let rolloutId = 0;
  let viewerKey = "";

  // Whatever happens, no rollout of the demo candidate stays active: later runs and specs expect
  // item-knn-demo as `npm start` left it (a candidate, serving nobody).
  test.afterAll(abortDemoRollouts);

  test("an engineer starts a rollout of the demo candidate from its version page and watches stage 1 run", async ({
    page,
  }) => {
    // A rollout left active by an interrupted earlier run would hold the model: abort it first.
    await abortDemoRollouts();

    await page.goto("/models");
    const link = page
      .getByTestId("models-table")
      .locator("tr", { has: page.getByRole("link", { name: "item-knn-demo", exact: true }) })
      .first()
      .getByRole("link", { name: "item-knn-demo" });
    await link.click();
    await expect(page).toHaveURL(/\/models\/item-knn-demo\/[^/]+$/);
    await expect(page.getByTestId("stage").first()).toHaveText("candidate");

    const form = page.getByTestId("start-rollout-form");
    await expect(form.getByLabel("stage 1 traffic %")).toHaveValue("5");
    await expect(form.getByLabel("stage 2 traffic %")).toHaveValue("50");
    await expect(form.getByLabel("stage 3 traffic %")).toHaveValue("100");
    // a stage below the one before: the api's 400 names the field, shown beside it
    await form.getByLabel("stage 2 traffic %").fill("3");
    await form.getByLabel("Evaluation interval (s)").fill("1");
    await form.getByLabel("Reason (optional)").fill("e2e canary");
    await form.getByRole("button", { name: "Start rollout" }).click();
    await expect(page.getByTestId("field-error-stages[1].trafficPct")).toHaveText(
      "must be above the previous stage's 5",
    );
    await expect(page).toHaveURL(/\/models\//);

    await form.getByLabel("stage 2 traffic %").fill("50");
    for (const stage of [1, 2, 3])
      await form.getByLabel(`stage ${stage} min duration (s)`).fill("600");
    await form.getByRole("button", { name: "Start rollout" }).click();

    await expect(page).toHaveURL(/\/rollouts\/\d+$/);
    rolloutId = Number(/\/rollouts\/(\d+)$/.exec(page.url())![1]);
    // the controller starts stage 1 within a tick or two
    await expect(page.getByTestId("rollout-status")).toHaveText("progressing", { timeout: 20_000 });
    await expect(page.getByTestId("rollout-stage")).toHaveText("stage 1/3 at 5 %");
    await expect(page.getByTestId("rollout-traffic")).toHaveText("5 % of users");
    const elapsed = page.getByTestId("stage-elapsed");
    await expect(elapsed).toContainText("of 10 min 0 s");
    const first = Number(await elapsed.getAttribute("data-value"));
    await expect
      .poll(async () => Number(await elapsed.getAttribute("data-value")), { timeout: 15_000 })
      .toBeGreaterThan(first + 1_000);
    await expect(page.getByTestId("rollout-actions")).toBeVisible();
    await expect(page.getByTestId("action-abort")).toBeVisible();
    await expect(page.getByTestId("action-resume")).toHaveCount(0);
    // the controller evaluates every second: the gates appear with their thresholds
    await expect(page.getByTestId("gate-error_rate")).toBeVisible({ timeout: 15_000 });
    await expect(page.getByTestId("gate-click_through")).toContainText("≥");

    await page.goto("/rollouts");
    await expect(page.getByTestId(`rollout-row-${rolloutId}`)).toContainText("item-knn-demo");
    await expect(page.getByTestId(`rollout-row-${rolloutId}`)).toContainText("stage 1/3 at 5 %");
  });

  test("a viewer sees the rollout but no action buttons, and rollouts.act with the viewer key is refused with 403", async ({
    page,
    baseURL,
  }) => {
    expect(rolloutId).toBeGreaterThan(0);
    const created = await trpc<{ key: string }>(
      page,
      "apiKeys.create",
      { name: "e2e rollout viewer", role: "viewer" },
      true,
    );
    viewerKey = created.key;
    await page.context().addCookies([{ name: "reco_key", value: viewerKey, url: baseURL! }]);

    await page.goto(`/rollouts/${rolloutId}`);
    await expect(page.getByTestId("rollout-status")).toHaveText("progressing");
    await expect(page.getByTestId("actions-hidden")).toContainText("viewer");
    await expect(page.getByTestId("rollout-actions")).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Abort" })).toHaveCount(0);
    await expect(page.getByTestId("audit-log")).toContainText("start");

    const { version } = await trpc<RolloutRow>(page, "rollouts.get", { id: rolloutId });
    const refused = await actDirect(page.request, viewerKey, {
      id: rolloutId,
      action: "abort",
      version,
    });
    expect(refused.status()).toBe(403);
    const body = (await refused.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe("FORBIDDEN");
    expect(body.error.message).toBe("needs role engineer, key has viewer");
    // through the dashboard's proxy as well, with the viewer signed in
    const proxied = await page.request.post("/api/trpc/rollouts.act?batch=1", {
      data: { 0: { id: rolloutId, action: "abort", version } },
    });
    expect(proxied.status()).toBe(403);
    expect((await trpc<RolloutRow>(page, "rollouts.get", { id: rolloutId })).status).toBe(
      "progressing",
    );
  });

  test("the engineer aborts the rollout and the audit log records who, what and why", async ({
    page,
  }) => {
    expect(rolloutId).toBeGreaterThan(0);
    const me = await trpc<{ prefix: string; role: string }>(page, "session.whoami");
    expect(me.role).toBe("admin");

    await page.goto(`/rollouts/${rolloutId}`);
    await expect(page.getByTestId("rollout-status")).toHaveText("progressing");
    await page.getByTestId("action-reason").fill("e2e: seen enough");
    await page.getByTestId("action-abort").click();
    await expect(page.getByTestId("rollout-status")).toHaveText("aborted");
    await expect(page.getByTestId("no-actions")).toBeVisible();
    const newest = page.getByTestId("audit-row").first();
    await expect(newest.getByTestId("audit-action")).toHaveText("abort");
    await expect(newest.getByTestId("audit-actor")).toHaveText(`key:${me.prefix}`);
    await expect(newest.getByTestId("audit-reason")).toHaveText("e2e: seen enough");
    await expect(newest).toContainText("progressing → aborted");

    // aborting hands the version back as a candidate, as `npm start` left it
    await page.goto("/models");
    const row = page
      .getByTestId("models-table")
      .locator("tr", { has: page.getByRole("link", { name: "item-knn-demo", exact: true }) })
      .first();
    await expect(row.getByTestId("stage")).toHaveText("candidate");
  });
});
