import { expect, test } from "@playwright/test";

test("a product manager creates, starts and reads an experiment in the A/B panel", async ({
  page,
}) => {
  const key = `e2e-${Date.now()}`;
  await page.goto("/experiments/new");
  await page.getByLabel("Key").fill(key);
  await page.getByLabel("Hypothesis").fill("Personalised rows raise click-through");
  await page.getByLabel("variant 1 weight").fill("60");
  await page.getByRole("button", { name: "Create draft" }).click();
  // weights 60 + 50 do not sum to 100: the api's message names the field
  await expect(page.locator("p.error")).toContainText("weight");
  await page.getByLabel("variant 1 weight").fill("50");
  await page.getByRole("button", { name: "Create draft" }).click();

  await expect(page).toHaveURL(new RegExp(`/experiments/${key}$`));
  await expect(page.getByTestId("experiment-status")).toHaveText("draft");
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("experiment-status")).toHaveText("running");
  await expect(page.getByTestId("verdict")).toBeVisible();
  await expect(page.getByTestId("results")).toContainText("control");

  // stop it again, so later specs' users are not served its popularity arms
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("experiment-status")).toHaveText("stopped");

  await page.goto("/experiments");
  await expect(page.getByRole("link", { name: key })).toBeVisible();
});
