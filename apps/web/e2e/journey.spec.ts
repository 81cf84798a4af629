import { rm } from "node:fs/promises";
import path from "node:path";
import { expect as baseExpect, test, type Locator, type Page } from "@playwright/test";
import { copyCheckout, productPorts, startProduct, type RunningProduct } from "@reco/testkit";
import { ApiClient } from "./journey/api.ts";
import { demoPassword, demoUser } from "./journey/demo-data.ts";

/*
 * The new user's journey: `npm start` in a fresh copy of the checkout (the files git tracks, its own
 * data directory and free ports; see copyCheckout for how node_modules is provided), so the first
 * start imports the demo data, trains the demo models and builds the dashboard as a new clone's
 * does. The simulator runs (faster than its default) and the demo experiment is on. Signed in as
 * the seeded engineer through the sign-in page, the journey checks the five things a newcomer
 * does: a known user's recommendations, a new user personalised by five picks, monitoring numbers
 * that move, the demo experiment with users in both arms, and a retraining run started from the
 * dashboard that produces a new candidate version.
 */

// A first start on shared cores: the first answers (models loading, pages compiling their queries)
// can take longer than Playwright's default 5 s.
const expect = baseExpect.configure({ timeout: 30_000 });

const checkout = path.resolve(import.meta.dirname, "../../..");
const DEMO = path.join(checkout, "data", "ml-latest-small");
const DEMO_EXPERIMENT = "demo-ials-vs-item-knn";
const ENGINEER = "engineer@reco.local";

test.describe.configure({ mode: "serial" });
test.use({ viewport: { width: 1366, height: 800 } });

let copy: string | undefined;
let product: RunningProduct | undefined;
let api: ApiClient;
let page: Page;
/** Errors the signed-in page logged; the journey must log none. */
const consoleErrors: string[] = [];

test.beforeAll(async ({ browser }) => {
  // First start of a fresh copy: import, training and the dashboard's build (~2 min on 2 idle
  // cores, more when they are shared).
  test.setTimeout(12 * 60_000);
  const copyStarted = performance.now();
  copy = copyCheckout({ from: checkout, prefix: "reco-journey-" });
  const copySeconds = (performance.now() - copyStarted) / 1000;
  const { apiPort, webPort } = await productPorts();
  product = await startProduct({
    cwd: copy,
    apiPort,
    webPort,
    dataDir: path.join(copy, ".data"),
    readyTimeoutMs: 10 * 60_000,
    env: {
      // The monitoring figures move within seconds: more traffic, 1 s micro-batches.
      SIMULATE: "1",
      SIMULATE_RPS: "20",
      STREAM_BATCH_INTERVAL_MS: "1000",
      DEMO_EXPERIMENT: "1",
      // "Retrain now" trains the stable iALS in seconds: few epochs and factors.
      RETRAIN_PARAMS: "epochs=2,factors=16",
    },
  });
  console.log(
    `[journey] copy in ${copySeconds.toFixed(1)} s (${copy}); npm start ready in ${product.readySeconds.toFixed(1)} s`,
  );
  api = new ApiClient(product.apiUrl, product.dataDir);

  page = await browser.newPage();
  page.on("console", (message) => {
    if (message.type() === "error")
      consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  await page.goto(`${product.webUrl}/signin`);
  await page.getByLabel("Email").fill(ENGINEER);
  await page.getByLabel("Password").fill(demoPassword(product.dataDir, ENGINEER));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/");
  const session = (await page.context().cookies()).find((c) => c.name === "reco_session");
  expect(session?.httpOnly, "the session cookie after signing in").toBe(true);
});

test.afterEach(async () => {
  const testInfo = test.info();
  if (testInfo.status !== testInfo.expectedStatus && product) {
    const tail = product.output(8_000);
    console.error(`[journey] ${testInfo.title} failed; npm start's last output:\n${tail}`);
    await testInfo.attach("npm start output", { body: product.output(200_000) });
  }
});

test.afterAll(async () => {
  // Runs after a failed beforeAll too: nothing is left running or on disk.
  test.setTimeout(120_000);
  await page?.close();
  const steps = /Start steps\s+(.*)/.exec(product?.output(200_000) ?? "")?.[1];
  const code = await product?.stop();
  if (product) console.log(`[journey] npm start's steps: ${steps}; stopped (exit ${code})`);
  if (copy) await rm(copy, { recursive: true, force: true });
});

interface ShownItem {
  itemId: string;
  fallback: boolean;
}

function shownItems(list: Locator): Promise<ShownItem[]> {
  return list.getByTestId("rec-item").evaluateAll((nodes) =>
    nodes.map((node) => ({
      itemId: node.getAttribute("data-item-id") ?? "",
      fallback: node.getAttribute("data-fallback") === "true",
    })),
  );
}

const ids = (items: readonly { itemId: string }[]) => items.map((item) => item.itemId);

test("a known user: the history from the demo ratings, each version's recommendations, the served one as GET /recommend answers", async () => {
  const userId = "1";
  const rated = demoUser(DEMO, userId);
  await page.goto(`${product!.webUrl}/recommendations`);
  await expect(page.getByRole("heading", { name: "Recommendations", level: 1 })).toBeVisible();
  // Hydrated before typing (the cold list loads client-side): a form submitted earlier reloads.
  await expect(page.getByTestId("newuser-recs").getByTestId("rec-item")).toHaveCount(10);
  await page.getByLabel("User id", { exact: true }).fill(userId);
  await page.getByLabel("User id", { exact: true }).press("Enter");

  const history = page.getByTestId("user-history");
  await expect(history).toContainText(`of ${rated.items.size} items`);
  const newest = await history.getByTestId("history-item").first().locator("span").first();
  expect([...rated.newestTitles]).toContain(await newest.textContent());

  const columns = page.getByTestId("version-column");
  await expect(columns).toHaveCount(2);
  const served = await api.recommend(userId);
  expect(served.fallback).toBe(false);
  const column = page.locator(
    `[data-testid="version-column"][data-version="${served.modelVersion}"]`,
  );
  await expect(column.getByTestId("rec-item")).toHaveCount(10);
  const shown = await shownItems(column);
  expect(ids(shown)).toEqual(ids(served.items));
  for (const other of await columns.all()) {
    const items = await shownItems(other);
    expect(items).toHaveLength(10);
    // a warm user: the model's own answer, nothing the user rated
    expect(items.filter((item) => item.fallback)).toEqual([]);
    expect(items.filter((item) => rated.items.has(item.itemId))).toEqual([]);
  }
});

test("a new user: five picks turn the popularity fallback into a personalised list", async () => {
  await page.goto(`${product!.webUrl}/recommendations`);
  const recs = page.getByTestId("newuser-recs");
  await expect(recs.getByTestId("rec-item")).toHaveCount(10);
  const cold = await shownItems(recs);
  expect(cold.every((item) => item.fallback)).toBe(true);
  // The api's own answer for a user it has never seen is popularity too (by design for a cold
  // user: the api does not flag it as a fallback, the panel marks popular items as such).
  const unknown = await api.recommend(`journey-new-${Date.now()}`);
  expect(unknown.items.map((item) => item.reason)).toEqual(Array(10).fill("popular"));

  const search = page.getByLabel("Find an item to pick", { exact: true });
  const picks = [
    ["shining", "Shining, The (1980)"],
    ["halloween", "Halloween (1978)"],
    ["nightmare on elm", "Nightmare on Elm Street, A (1984)"],
    ["exorcist", "Exorcist, The (1973)"],
    ["alien", "Alien (1979)"],
  ] as const;
  for (const [n, [query, title]] of picks.entries()) {
    await search.fill(query);
    await page.getByRole("button", { name: `Pick ${title}`, exact: true }).click();
    await expect(recs).toHaveAttribute("data-picks", String(n + 1));
  }
  await expect(page.getByTestId("pick-chip")).toHaveCount(5);
  await expect(recs).toHaveAttribute("aria-busy", "false");
  await expect(page.getByTestId("newuser-source")).not.toContainText("fallback");
  const personalised = await shownItems(recs);
  expect(personalised).toHaveLength(10);
  expect(personalised.filter((item) => item.fallback)).toEqual([]);
  expect(ids(personalised)).not.toEqual(ids(cold));
  expect(ids(personalised)).not.toEqual(ids(unknown.items));
});

test("monitoring: the request count read twice, 10 s apart, grows while the simulator runs", async () => {
  test.setTimeout(120_000);
  await page.goto(`${product!.webUrl}/monitoring`);
  await page.getByLabel("window").selectOption("15");
  const requests = page
    .getByTestId("monitoring-totals")
    .locator(".card", { hasText: "Requests" })
    .locator(".value");
  const read = async () => Number(((await requests.textContent()) ?? "").replace(/,/g, ""));
  // The first aggregates reach the page within a batch interval of the first traffic.
  await expect.poll(read, { timeout: 60_000, intervals: [1_000] }).toBeGreaterThan(0);
  const first = await read();
  const firstAt = Date.now();
  await page.waitForTimeout(10_000);
  // The page refreshes itself every 10 s (live): no reload.
  await expect.poll(read, { timeout: 30_000, intervals: [1_000] }).toBeGreaterThan(first);
  expect(Date.now() - firstAt).toBeGreaterThanOrEqual(10_000);
});

test("the demo experiment's results page shows users in both arms", async () => {
  test.setTimeout(150_000);
  await page.goto(`${product!.webUrl}/experiments`);
  await page.getByRole("link", { name: DEMO_EXPERIMENT }).click();
  await expect(page).toHaveURL(new RegExp(`/experiments/${DEMO_EXPERIMENT}$`));
  await expect(page.getByTestId("experiment-status")).toHaveText("running");
  const usersOf = async (variant: string) => {
    const row = page
      .getByTestId("results")
      .locator("table")
      .first()
      .locator("tr", { has: page.getByRole("cell", { name: variant }) });
    return Number(((await row.locator("td").nth(1).textContent()) ?? "").replace(/,/g, ""));
  };
  await expect(page.getByTestId("results")).toBeVisible({ timeout: 30_000 });
  // The page refreshes the results every 15 s; until both arms have users, ask again sooner.
  await expect
    .poll(
      async () => {
        const both = Math.min(await usersOf("ials (control)"), await usersOf("item-knn"));
        if (!(both > 0)) await page.reload();
        return both;
      },
      { timeout: 120_000, intervals: [3_000] },
    )
    .toBeGreaterThan(0);
  // The rows read are the experiment's two arms, as the api holds them.
  const experiment = await api.query<{ variants: { name: string }[] }>("experiments.get", {
    key: DEMO_EXPERIMENT,
  });
  expect(experiment.variants.map((v) => v.name).sort()).toEqual(["ials", "item-knn"]);
});

test("Retrain now on the dashboard: a run completes and a new candidate version appears in /models and in the api", async () => {
  test.setTimeout(300_000);
  interface VersionRow {
    name: string;
    version: string;
    stage: string;
  }
  const before = await api.query<VersionRow[]>("models.list");
  await page.goto(`${product!.webUrl}/retraining`);
  await expect(page.getByRole("heading", { name: "Retraining" })).toBeVisible();
  const rowIds = () =>
    page
      .locator('[data-testid^="retraining-run-"]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-testid")!));
  // The runs query has answered (a table or its empty note) before the rows are counted.
  await expect(
    page.getByTestId("retraining-runs").or(page.getByText("No retraining runs yet.")),
  ).toBeVisible();
  const earlier = new Set(await rowIds());

  await page.getByTestId("retrain-now").click();
  await expect(page.getByTestId("retraining-active")).toBeVisible({ timeout: 15_000 });
  let runRow: Locator | undefined;
  await expect
    .poll(
      async () => {
        const fresh = (await rowIds()).filter((id) => !earlier.has(id));
        runRow = fresh.length === 1 ? page.getByTestId(fresh[0]!) : undefined;
        return fresh.length;
      },
      { timeout: 15_000 },
    )
    .toBe(1);
  // Queued by the signed-in engineer, not by the schedule.
  await expect(runRow!).toContainText(ENGINEER);
  await expect(runRow!.getByTestId("run-status")).toHaveText(/succeeded|failed/, {
    timeout: 240_000,
  });
  await expect(runRow!.getByTestId("run-status")).toHaveText("succeeded");
  const link = runRow!.getByTestId("run-version").getByRole("link");
  const [name, version] = ((await link.textContent()) ?? "").trim().split(/\s+/);
  expect(name).toBe("ials-demo"); // the stable demo model's kind, retrained under its name
  expect(before.some((v) => v.name === name && v.version === version)).toBe(false);

  await page.goto(`${product!.webUrl}/models`);
  const modelRow = page.getByTestId(`model-row-${name}-${version}`);
  await expect(modelRow).toBeVisible();
  await expect(modelRow).toContainText("candidate");
  const after = await api.query<VersionRow[]>("models.list");
  expect(after.find((v) => v.name === name && v.version === version)?.stage).toBe("candidate");
  expect(after).toHaveLength(before.length + 1);
  expect(consoleErrors).toEqual([]);
});
