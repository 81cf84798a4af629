import { expect, test } from "@playwright/test";

test("the overview page shows the demo catalog counts fetched over tRPC", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("count-items")).toContainText("9,125");
  await expect(page.getByTestId("count-users")).toContainText("671");
  await expect(page.getByTestId("count-ratings")).toContainText("100,004");
});

test("the dashboard's tRPC proxy refuses a wrong key instead of serving data", async ({ page }) => {
  const response = await page.request.get("/api/trpc/stats.counts?batch=1&input=%7B%7D", {
    headers: { cookie: "reco_key=reco_000000000000_wrong" },
  });
  expect(response.status()).toBe(401);
});

test("the overview shows health tiles with units, linking to monitoring, and what is running", async ({
  page,
}) => {
  await page.goto("/");
  const tiles = page.getByTestId("health-tiles");
  await expect(tiles).toBeVisible();
  await expect(page.getByTestId("health-requestsPerMin")).toContainText("req/min");
  await expect(page.getByTestId("health-ctr")).toContainText("%");
  await expect(page.getByTestId("health-p99")).toContainText("ms");
  // The stream worker's backlog, read from the event bus: a count of events, not "n/a".
  await expect(page.getByTestId("health-consumerLag")).toContainText(/\d[\d,]* events/);
  await expect(page.getByTestId("health-dlq")).toContainText(/\d[\d,]* events/);
  await expect(page.getByTestId("health-experiments")).toBeVisible();
  await expect(page.getByTestId("health-rollouts")).toBeVisible();
  await expect(page.getByTestId("health-retraining")).toBeVisible();
  await page.getByTestId("health-requestsPerMin").click();
  await expect(page).toHaveURL(/\/monitoring$/);
  await expect(page.getByRole("heading", { name: "Monitoring", level: 1 })).toBeVisible();
});
