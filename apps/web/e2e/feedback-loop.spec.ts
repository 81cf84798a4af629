import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";

// The api port and data directory the e2e product was started with (playwright.config.ts).
const apiUrl = `http://127.0.0.1:${process.env.E2E_API_PORT || 4310}`;
const dataDir =
  process.env.E2E_DATA_DIR || path.resolve(import.meta.dirname, "../../../.cache/e2e-data");

test("feedback flows through the embedded bus and stream worker into the dashboard's counts", async ({
  page,
  request,
}) => {
  const key = readFileSync(path.join(dataDir, "dev-api-key"), "utf8").trim();
  const auth = { authorization: `Bearer ${key}` };
  const userId = `e2e-user-${Date.now()}`;

  await page.goto("/");
  const ratingsCard = page.getByTestId("count-ratings");
  await expect(ratingsCard).not.toContainText("…");
  const before = Number((await ratingsCard.locator(".value").innerText()).replaceAll(",", ""));

  const cold = await request.get(`${apiUrl}/recommend/${userId}?k=5`, { headers: auth });
  expect(cold.status()).toBe(200);
  expect((await cold.json()).items[0].reason).toBe("popular");

  const events = ["1", "2", "3", "4", "5"].map((itemId) => ({
    userId,
    itemId,
    type: "rate",
    value: 4.5,
  }));
  const feedback = await request.post(`${apiUrl}/feedback`, { headers: auth, data: { events } });
  expect(feedback.status()).toBe(202);

  // a user unseen at training is personalised from these five events (fold-in); running
  // experiments are refreshed every few seconds, so allow for one that was just stopped
  await expect(async () => {
    const warm = await (
      await request.get(`${apiUrl}/recommend/${userId}?k=5`, { headers: auth })
    ).json();
    expect(warm.fallback).toBe(false);
    expect(warm.items[0].reason).toBe("similar_to_recent");
    expect(warm.items.map((item: { itemId: string }) => item.itemId)).not.toContain("1");
  }).toPass({ timeout: 15_000 });

  await expect(async () => {
    await page.reload();
    await expect(ratingsCard).toContainText(new Intl.NumberFormat("en-US").format(before + 5), {
      timeout: 2_000,
    });
  }).toPass({ timeout: 30_000 });
});
