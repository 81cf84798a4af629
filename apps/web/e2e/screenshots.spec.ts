import path from "node:path";
import { expect, test } from "@playwright/test";

/**
 * A screenshot of every page at laptop (1366×800) and tablet (768×1024) width, saved under
 * test-results/screenshots/ as the run's artifacts; each page must render its heading with no
 * console error on the way, and fit the width (nothing scrolls sideways, the nav included).
 */
const OUT = path.join(import.meta.dirname, "..", "test-results", "screenshots");
const VIEWPORTS = [
  { name: "desktop", width: 1366, height: 800 },
  { name: "tablet", width: 768, height: 1024 },
] as const;
const PAGES: Array<[name: string, path: string, heading: string]> = [
  ["overview", "/", "Overview"],
  ["experiments", "/experiments", "A/B experiments"],
  ["models", "/models", "Model versions"],
  ["rollouts", "/rollouts", "Rollouts"],
  ["monitoring", "/monitoring", "Monitoring"],
  ["recommendations", "/recommendations", "Recommendations"],
  ["retraining", "/retraining", "Retraining"],
  ["signin", "/signin", "API key"],
  ["new-experiment", "/experiments/new", "New experiment"],
  ["admin", "/admin", "Admin"],
];

for (const viewport of VIEWPORTS) {
  test.describe(`${viewport.name} ${viewport.width}×${viewport.height}`, () => {
    test.use({ viewport: { width: viewport.width, height: viewport.height } });
    for (const [name, pagePath, heading] of PAGES) {
      test(`${pagePath} renders without console errors and is captured`, async ({ page }) => {
        const errors: string[] = [];
        page.on("console", (message) => {
          if (message.type() === "error") errors.push(message.text());
        });
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(pagePath);
        await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
        // Wait for the page's data: no loading placeholder left.
        await expect(page.getByText("Loading…")).toHaveCount(0, { timeout: 15_000 });
        await expect(page.getByText("Loading chart…")).toHaveCount(0, { timeout: 15_000 });
        const width = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
        }));
        expect(width.scroll, `${pagePath} is wider than the window`).toBeLessThanOrEqual(
          width.viewport,
        );
        await page.screenshot({
          path: path.join(OUT, `${name}-${viewport.name}.png`),
          fullPage: true,
        });
        expect(errors).toEqual([]);
      });
    }
  });
}
