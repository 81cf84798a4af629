import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";

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

test("the seeded viewer sees no action buttons, and its direct tRPC mutations get 403 (with or without the CSRF token)", async ({
  page,
}) => {
  const csrf = await signIn(page, "viewer@reco.local");
  const whoami = await page.request.get("/api/trpc/session.whoami?input=%7B%7D");
  expect((await whoami.json()).result.data).toMatchObject({ role: "viewer", kind: "account" });

  await page.goto("/retraining");
  await expect(page.getByRole("heading", { name: "Retraining" })).toBeVisible();
  await expect(page.getByTestId("retrain-now")).toHaveCount(0);

  await page.goto("/models");
  const candidate = page
    .getByTestId("models-table")
    .locator("tr", { has: page.getByRole("link", { name: "item-knn-demo", exact: true }) })
    .first()
    .getByRole("link", { name: "item-knn-demo" });
  await page.goto((await candidate.getAttribute("href"))!);
  await expect(page.getByTestId("stage").first()).toBeVisible();
  await expect(page.getByRole("button", { name: /start.*rollout/i })).toHaveCount(0);

  const withToken = await page.request.post("/api/trpc/retraining.trigger", {
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    data: "{}",
  });
  expect(withToken.status()).toBe(403);
  expect(await withToken.text()).toContain("needs role engineer");
  const withoutToken = await page.request.post("/api/trpc/retraining.trigger", {
    headers: { "content-type": "application/json" },
    data: "{}",
  });
  expect(withoutToken.status()).toBe(403);
  expect(await withoutToken.text()).toContain("CSRF");

  await page.goto("/admin");
  await expect(page.locator("p.error")).toContainText("Only admins manage accounts");
  await expect(page.getByRole("heading", { name: "Accounts" })).toHaveCount(0);
});

test("the seeded admin creates an API key on /admin and sees it once", async ({ page }) => {
  await signIn(page, "admin@reco.local");
  await page.goto("/admin");
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
