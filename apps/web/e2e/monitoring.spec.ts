import { expect, test } from "@playwright/test";

interface SeriesAnswer {
  result: { data: { byModelVersion: { versionLabel: string }[] } };
}

test("the monitoring page shows charts per model version, or its empty state when nothing was aggregated", async ({
  page,
}) => {
  // What the api holds for the same window decides which of the two the page must show.
  const answer = await page.request.get(
    `/api/trpc/monitoring.series?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { minutes: 60 } }))}`,
  );
  expect(answer.status()).toBe(200);
  const versions = ((await answer.json()) as [SeriesAnswer])[0].result.data.byModelVersion;

  await page.goto("/monitoring");
  await expect(page.getByRole("heading", { name: "Monitoring" })).toBeVisible();
  if (versions.length === 0) {
    await expect(page.getByTestId("monitoring-empty")).toContainText("No traffic recorded");
    await expect(page.getByTestId("chart-requests")).toHaveCount(0);
  } else {
    await expect(page.getByTestId("chart-requests").locator("svg").first()).toBeVisible();
    await expect(page.getByTestId("chart-ctr")).toBeVisible();
    for (const { versionLabel } of versions)
      await expect(page.getByTestId(`chart-latency-${versionLabel}`)).toBeVisible();
  }
  await expect(page.locator("p.error")).toHaveCount(0);
});

test("the monitoring window selector asks the api for a wider window", async ({ page }) => {
  await page.goto("/monitoring");
  await expect(page.getByRole("heading", { name: "Monitoring" })).toBeVisible();
  const request = page.waitForRequest(
    (r) =>
      r.url().includes("monitoring.series") &&
      decodeURIComponent(r.url()).includes('"minutes":1440'),
  );
  await page.getByLabel("window").selectOption("1440");
  await request;
  await expect(
    page.getByTestId("monitoring-empty").or(page.getByTestId("chart-requests")),
  ).toBeVisible();
});

test("the monitoring page refreshes live until paused, and offers windows from 15 minutes to 7 days", async ({
  page,
}) => {
  await page.goto("/monitoring");
  const live = page.getByTestId("monitoring-live");
  await expect(live).toBeChecked();
  await expect(page.getByTestId("monitoring-updated")).toContainText("updated");
  const options = await page.getByLabel("window").locator("option").allTextContents();
  expect(options).toEqual(["15 minutes", "1 hour", "6 hours", "24 hours", "7 days"]);
  // Live: a second request for the series within the 10 s period.
  const refreshed = page.waitForRequest(/monitoring\.series/, { timeout: 15_000 });
  await refreshed;
  await live.uncheck();
  await expect(live).not.toBeChecked();
  let requests = 0;
  page.on("request", (request) => {
    if (/monitoring\.series/.test(request.url())) requests += 1;
  });
  await page.waitForTimeout(11_000);
  expect(requests).toBe(0);
});

test("the 7-day window asks the api for 10080 minutes and shows hourly points or the empty state", async ({
  page,
}) => {
  await page.goto("/monitoring");
  await expect(page.getByRole("heading", { name: "Monitoring" })).toBeVisible();
  const response = page.waitForResponse(
    (r) =>
      r.url().includes("monitoring.series") &&
      decodeURIComponent(r.url()).includes('"minutes":10080'),
  );
  await page.getByLabel("window").selectOption("10080");
  const body = JSON.stringify(await (await response).json());
  // Beyond a day the api merges the minutes into hourly points.
  expect(body).toContain('"bucketMinutes":60');
  await expect(
    page.getByTestId("monitoring-empty").or(page.getByTestId("chart-requests")),
  ).toBeVisible();
});
