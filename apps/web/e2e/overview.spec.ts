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
