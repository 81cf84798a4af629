import { expect, test, type Page } from "@playwright/test";

interface VersionRow {
  name: string;
  version: string;
  stage: string;
}

interface RunRow {
  id: number;
  status: string;
  error: string | null;
  version: { name: string; version: string; stage: string } | null;
}

/** A tRPC query through the dashboard's proxy, as the signed-in key (the dev admin key). */
async function query<T>(page: Page, path: string, input?: unknown): Promise<T> {
  const response = await page.request.get(
    `/api/trpc/${path}?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: input ?? {} }))}`,
  );
  expect(response.status(), `${path}: ${await response.text()}`).toBe(200);
  return ((await response.json()) as [{ result: { data: T } }])[0].result.data;
}

test("Retrain now trains the stable model's kind from the snapshots and a new candidate version appears", async ({
  page,
}) => {
  // The api trains in its own process with RETRAIN_PARAMS from playwright.config.ts (few epochs).
  test.setTimeout(240_000);
  await page.goto("/retraining");
  await expect(page.getByRole("heading", { name: "Retraining" })).toBeVisible();
  const before = await query<VersionRow[]>(page, "models.list");
  const runsBefore = await query<RunRow[]>(page, "retraining.runs", { limit: 200 });

  await page.getByTestId("retrain-now").click();
  // The queued run shows with its progress while it trains; the button is disabled meanwhile.
  await expect(page.getByTestId("retraining-active")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("retrain-now")).toBeDisabled();

  let run: RunRow | undefined;
  await expect
    .poll(
      async () => {
        const runs = await query<RunRow[]>(page, "retraining.runs", { limit: 200 });
        run = runs.find((r) => !runsBefore.some((old) => old.id === r.id));
        return run?.status;
      },
      { timeout: 200_000, intervals: [1_000] },
    )
    .toMatch(/succeeded|failed/);
  expect(run!.error, "the run failed").toBeNull();
  expect(run!.version).not.toBeNull();
  const produced = run!.version!;
  expect(produced.stage).toBe("candidate");
  // The stable demo model is iALS: the candidate is a new version under its name.
  expect(produced.name).toBe("ials-demo");
  expect(before.some((v) => v.name === produced.name && v.version === produced.version)).toBe(
    false,
  );

  // The runs table links the candidate; the models page lists it as a candidate.
  const row = page.getByTestId(`retraining-run-${run!.id}`);
  await expect(row.getByTestId("run-status")).toHaveText("succeeded");
  await row.getByRole("link", { name: `${produced.name} ${produced.version}` }).click();
  await expect(page).toHaveURL(new RegExp(`/models/${produced.name}/${produced.version}$`));
  await page.goto("/models");
  const modelRow = page.getByTestId(`model-row-${produced.name}-${produced.version}`);
  await expect(modelRow).toBeVisible();
  await expect(modelRow).toContainText("candidate");
  const after = await query<VersionRow[]>(page, "models.list");
  expect(after.length).toBe(before.length + 1);
});
