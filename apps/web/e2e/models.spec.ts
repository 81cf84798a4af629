import { expect, test, type Page } from "@playwright/test";
import { renderMarkdown } from "../src/components/markdown.ts";

test("the model card renderer shows raw HTML as text and drops script links", () => {
  const html = renderMarkdown(
    "# Card\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](java\tscript:alert(1)) [docs](https://example.com/a?b=1) ![pic](https://evil.example/p.png)\n\n| a | b |\n|---|---|\n| 1 | <img src=x onerror=alert(1)> |",
  );
  expect(html).toContain("<h1>Card</h1>");
  expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  expect(html).not.toContain("<script");
  expect(html).not.toContain("javascript:");
  expect(html).not.toContain("<img");
  expect(html).toContain('<a href="https://example.com/a?b=1"');
  expect(html).toContain("<table>");
});

/** The stage badge of a model's row in the models table. */
const rowOf = (page: Page, name: string) =>
  page
    .getByTestId("models-table")
    .locator("tr", { has: page.getByRole("link", { name, exact: true }) });

test("the models page lists the demo iALS as the stable, serving version with its ndcg@10, and its card renders", async ({
  page,
}) => {
  await page.goto("/models");
  await expect(page.getByRole("heading", { name: "Model versions" })).toBeVisible();
  const ials = rowOf(page, "ials-demo").first();
  await expect(ials.getByTestId("stage")).toHaveText("stable");
  await expect(ials).toContainText("serving");
  await expect(ials.getByTestId("metric-ndcg@10")).toHaveText(/^0\.\d{4}$/);
  await expect(rowOf(page, "item-knn-demo").first().getByTestId("stage")).toHaveText(
    /candidate|stable|retired/,
  );

  await ials.getByRole("link", { name: "ials-demo" }).click();
  await expect(page).toHaveURL(/\/models\/ials-demo\/[^/]+$/);
  const card = page.getByTestId("model-card");
  await expect(card.getByRole("heading", { level: 1 })).toContainText("Model card: ials-demo");
  await expect(card.locator("table").first()).toContainText("algorithm");
  await expect(card).toContainText("ndcg");
  const metricsGrid = page.getByTestId("offline-metrics");
  await expect(metricsGrid.locator("tr", { hasText: "ndcg" })).toContainText(/0\.\d{4}/);
  await expect(metricsGrid.locator("thead")).toContainText("@10");
});

test("a viewer gets no stage controls and its setStage call is refused; the admin key changes the stage", async ({
  page,
  baseURL,
}) => {
  // The dashboard's own key (admin in embedded mode) makes a viewer key for this test.
  const created = await page.request.post("/api/trpc/apiKeys.create?batch=1", {
    data: { 0: { name: "e2e viewer", role: "viewer" } },
  });
  expect(created.status()).toBe(200);
  const viewerKey = ((await created.json()) as [{ result: { data: { key: string } } }])[0].result
    .data.key;

  await page.goto("/models");
  const link = rowOf(page, "item-knn-demo").first().getByRole("link", { name: "item-knn-demo" });
  const href = await link.getAttribute("href");
  expect(href).toBeTruthy();
  const [name, version] = href!.split("/").slice(2).map(decodeURIComponent);

  await page.context().addCookies([{ name: "reco_key", value: viewerKey, url: baseURL! }]);
  await page.goto(href!);
  const before = await page.getByTestId("stage").first().textContent();
  const target = before === "retired" ? "candidate" : "retired";
  await expect(page.getByTestId("read-only")).toContainText(
    "signed in as viewer: you can read this; engineers and admins change its stage",
  );
  await expect(page.getByRole("button", { name: "Set stage" })).toHaveCount(0);
  await expect(page.getByLabel("new stage")).toHaveCount(0);
  // The api refuses the change all the same when called without the page.
  const refused = await page.request.post("/api/trpc/models.setStage", {
    data: { name, version, stage: target },
  });
  expect(refused.status()).toBe(403);
  expect(await refused.text()).toContain("needs role engineer, key has viewer");
  await page.reload();
  await expect(page.getByTestId("stage").first()).toHaveText(before!);

  await page.context().clearCookies();
  await page.reload();
  await expect(page.getByTestId("read-only")).toHaveCount(0);
  await page.getByLabel("new stage").selectOption(target);
  await page.getByRole("button", { name: "Set stage" }).click();
  await expect(page.getByTestId("stage").first()).toHaveText(target);
  // put it back so the demo state stays as `npm start` made it
  await page.getByLabel("new stage").selectOption(before!);
  await page.getByRole("button", { name: "Set stage" }).click();
  await expect(page.getByTestId("stage").first()).toHaveText(before!);
});

test("an unknown model version answers not found, naming it", async ({ page }) => {
  await page.goto("/models/ials-demo/v999");
  await expect(page.locator("p.error")).toContainText("ials-demo version v999");
});
