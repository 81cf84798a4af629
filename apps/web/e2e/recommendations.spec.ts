import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Locator, type Page } from "@playwright/test";

// The demo data the e2e product imported (playwright.config.ts: `npm start` on its defaults).
const DEMO = path.resolve(import.meta.dirname, "../../../data/ml-latest-small");

/** movieId → title, from movies.csv (titles with commas are quoted). */
function demoTitles(): Map<string, string> {
  const titles = new Map<string, string>();
  for (const line of readFileSync(path.join(DEMO, "movies.csv"), "utf8").split("\n").slice(1)) {
    const match = /^(\d+),("(?:[^"]|"")*"|[^,]*),/.exec(line);
    if (match) titles.set(match[1]!, match[2]!.replace(/^"|"$/g, "").replace(/""/g, '"'));
  }
  return titles;
}

/** One user's ratings from ratings.csv: item ids and the newest timestamp's items. */
function demoRatings(userId: string): { items: Set<string>; newest: Set<string> } {
  const rows = readFileSync(path.join(DEMO, "ratings.csv"), "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.split(","))
    .filter((cells) => cells[0] === userId);
  const newestTs = Math.max(...rows.map((cells) => Number(cells[3])));
  return {
    items: new Set(rows.map((cells) => cells[1]!)),
    newest: new Set(rows.filter((cells) => Number(cells[3]) === newestTs).map((c) => c[1]!)),
  };
}

/** Errors the page logs: a journey must log none. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

interface ShownItem {
  itemId: string;
  genres: string[];
  fallback: boolean;
}

async function shownItems(list: Locator): Promise<ShownItem[]> {
  return list.getByTestId("rec-item").evaluateAll((nodes) =>
    nodes.map((node) => ({
      itemId: node.getAttribute("data-item-id") ?? "",
      genres: (node.getAttribute("data-genres") ?? "").split("|").filter(Boolean),
      fallback: node.getAttribute("data-fallback") === "true",
    })),
  );
}

const share = (items: ShownItem[], genre: string) =>
  items.filter((item) => item.genres.includes(genre)).length / items.length;

test.use({ viewport: { width: 768, height: 1024 } });

// Playwright waits for the dashboard's port; the api behind its proxy may still be starting.
test.beforeAll(async ({ request }) => {
  await expect
    .poll(
      async () =>
        (await request.get("/api/trpc/recommendations.versions?batch=1&input=%7B%7D")).status(),
      { timeout: 90_000, intervals: [500] },
    )
    .toBe(200);
});

test("a known user's history beside the recommendations of both demo versions, at tablet width, by keyboard", async ({
  page,
}) => {
  const errors = consoleErrors(page);
  const titles = demoTitles();
  const rated = demoRatings("1");
  await page.goto("/recommendations");
  await expect(page.getByRole("heading", { name: "Recommendations", level: 1 })).toBeVisible();
  // The nav links here.
  await expect(page.getByRole("link", { name: "Recommendations" })).toHaveAttribute(
    "href",
    "/recommendations",
  );

  // Hydrated (the queries run client-side) before typing: a form submitted earlier would reload.
  await expect(page.getByTestId("newuser-recs").getByTestId("rec-item")).toHaveCount(10);
  const userBox = page.getByLabel("User id", { exact: true });
  await userBox.focus();
  await page.keyboard.type("1");
  await page.keyboard.press("Enter");

  const history = page.getByTestId("user-history");
  await expect(history.getByTestId("history-item")).toHaveCount(20);
  await expect(history).toContainText(`of ${rated.items.size} items`);
  const newestTitles = [...rated.newest].map((id) => titles.get(id));
  const firstShown = await history.getByTestId("history-item").first().locator("span").first();
  expect(newestTitles).toContain(await firstShown.textContent());

  const columns = page.getByTestId("version-column");
  await expect(columns).toHaveCount(2);
  await expect(columns.nth(0)).toHaveAttribute("data-version", /^ials-demo@/);
  await expect(columns.nth(1)).toHaveAttribute("data-version", /^item-knn-demo@/);
  await expect(columns.nth(0)).toContainText("serving");
  for (const column of [columns.nth(0), columns.nth(1)]) {
    await expect(column.getByTestId("rec-item")).toHaveCount(10);
    const items = await shownItems(column);
    // a warm user: the model's own answer, nothing the user rated, every item with genres
    expect(items.filter((item) => item.fallback)).toEqual([]);
    expect(items.filter((item) => rated.items.has(item.itemId))).toEqual([]);
    expect(items.every((item) => item.genres.length > 0)).toBe(true);
  }
  await expect(columns.nth(0)).toContainText("personalised");
  // Side by side at 768 px: history and both columns start on one row.
  const tops = await Promise.all(
    [history, columns.nth(0), columns.nth(1)].map(async (box) => (await box.boundingBox())!.y),
  );
  expect(new Set(tops).size).toBe(1);

  // Empty states: a user nobody knows, a title nothing matches.
  await userBox.fill("nobody-e2e");
  await userBox.press("Enter");
  await expect(history).toContainText('user "nobody-e2e" has no history');
  await expect(columns.nth(0).getByTestId("rec-item")).toHaveCount(10);
  expect((await shownItems(columns.nth(0))).every((item) => item.fallback)).toBe(true);

  // The item-to-item explorer.
  await page.getByLabel("Find an item", { exact: true }).fill("zzqqxx");
  await expect(page.getByText("No title contains “zzqqxx”.")).toBeVisible();
  await page.getByLabel("Find an item", { exact: true }).fill("toy story");
  await page.getByRole("button", { name: "Show items like Toy Story (1995)" }).click();
  const similar = page.getByTestId("similar-panel");
  await expect(similar.getByTestId("rec-item")).toHaveCount(10);
  expect((await shownItems(similar)).map((item) => item.itemId)).not.toContain("1");
  expect(errors).toEqual([]);
});

test("at laptop width the history and the version columns sit on one row too", async ({ page }) => {
  const errors = consoleErrors(page);
  await page.setViewportSize({ width: 1366, height: 800 });
  await page.goto("/recommendations");
  await expect(page.getByTestId("newuser-recs").getByTestId("rec-item")).toHaveCount(10);
  await page.getByLabel("User id", { exact: true }).fill("2");
  await page.getByRole("button", { name: "User 2", exact: true }).click();
  await expect(page.getByTestId("version-column")).toHaveCount(2);
  const boxes = [
    page.getByTestId("user-history"),
    ...(await page.getByTestId("version-column").all()),
  ];
  expect(boxes).toHaveLength(3);
  await expect(boxes[0]!.getByTestId("history-item").first()).toBeVisible();
  const tops = await Promise.all(boxes.map(async (box) => (await box.boundingBox())!.y));
  expect(new Set(tops).size).toBe(1);
  expect(errors).toEqual([]);
});

test("try as a new user: five horror picks personalise the answer away from popularity, towards the genre", async ({
  page,
}) => {
  const errors = consoleErrors(page);
  await page.goto("/recommendations");
  const recs = page.getByTestId("newuser-recs");
  await expect(recs.getByTestId("rec-item")).toHaveCount(10);
  const popular = await shownItems(recs);
  expect(popular.every((item) => item.fallback)).toBe(true);

  const search = page.getByLabel("Find an item to pick", { exact: true });
  const picks = [
    ["shining", "Shining, The (1980)"],
    ["halloween", "Halloween (1978)"],
    ["nightmare on elm", "Nightmare on Elm Street, A (1984)"],
    ["exorcist", "Exorcist, The (1973)"],
    ["alien", "Alien (1979)"],
  ] as const;
  let previous = popular.map((item) => item.itemId);
  for (const [n, [query, title]] of picks.entries()) {
    await search.fill(query);
    await page.getByRole("button", { name: `Pick ${title}`, exact: true }).click();
    await expect(recs).toHaveAttribute("data-picks", String(n + 1));
    await expect(recs).toHaveAttribute("aria-busy", "false");
    const now = (await shownItems(recs)).map((item) => item.itemId);
    if (n === 0) expect(now).not.toEqual(previous); // the first pick already changes the answer
    previous = now;
  }
  const chips = page.getByTestId("pick-chip");
  await expect(chips).toHaveCount(5);
  // The genre every pick shares, as the chips show it.
  const chipGenres = await chips.evaluateAll((nodes) =>
    nodes.map((node) => (node.getAttribute("data-genres") ?? "").split("|")),
  );
  const shared = chipGenres.reduce((common, genres) => common.filter((g) => genres.includes(g)));
  expect(shared).toEqual(["Horror"]);

  const personalised = await shownItems(recs);
  expect(personalised).toHaveLength(10);
  expect(personalised.every((item) => !item.fallback)).toBe(true);
  expect(personalised.map((item) => item.itemId)).not.toEqual(popular.map((item) => item.itemId));
  expect(share(personalised, "Horror")).toBeGreaterThan(share(popular, "Horror"));

  // Another servable version folds the same picks in.
  const section = page.getByRole("region", { name: "Try as a new user" });
  await expect(page.getByTestId("newuser-source")).toContainText("ials-demo");
  const versionSelect = section.getByLabel("Model version");
  const knn = await versionSelect
    .locator("option", { hasText: "item-knn-demo" })
    .first()
    .textContent();
  await versionSelect.selectOption({ label: knn! });
  await expect(page.getByTestId("newuser-source")).toContainText("item-knn-demo");
  await expect(recs).toHaveAttribute("aria-busy", "false");
  expect((await shownItems(recs)).every((item) => !item.fallback)).toBe(true);

  // A chip is removed by its button (keyboard: focus and Enter).
  await page.getByRole("button", { name: "Remove Alien (1979)" }).focus();
  await page.keyboard.press("Enter");
  await expect(chips).toHaveCount(4);
  await expect(recs).toHaveAttribute("data-picks", "4");
  expect(errors).toEqual([]);
});
