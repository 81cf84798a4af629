/**
 * The README's screenshots (docs/screenshots/), taken from a running product with traffic — e.g.
 * `npm start` with its simulator on for a few minutes — at laptop width.
 *
 * Usage: npx tsx apps/web/scripts/readme-screenshots.ts [dashboard URL, default http://127.0.0.1:3000]
 *        [Chromium executable, default /usr/bin/chromium]
 */
import path from "node:path";
import { chromium } from "@playwright/test";

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const out = path.resolve(import.meta.dirname, "..", "..", "..", "docs", "screenshots");
const PAGES: Array<[name: string, pagePath: string, ready: string]> = [
  ["overview", "/", "health-tiles"],
  ["monitoring", "/monitoring", "chart-requests"],
  ["models", "/models", ""],
];

const browser = await chromium.launch({
  executablePath: process.argv[3] ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
  for (const [name, pagePath, ready] of PAGES) {
    await page.goto(new URL(pagePath, base).toString());
    if (ready) await page.getByTestId(ready).first().waitFor({ timeout: 30_000 });
    await page
      .getByText("Loading", { exact: false })
      .first()
      .waitFor({ state: "detached", timeout: 30_000 })
      .catch(() => {});
    await page.waitForTimeout(1_000); // charts finish drawing
    const file = path.join(out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    console.log(`saved ${path.relative(process.cwd(), file)}`);
  }
} finally {
  await browser.close();
}
