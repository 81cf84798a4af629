import { expect, test } from "@playwright/test";

// The nav at tablet width: every link inside the window (it wraps), reachable with Tab in order,
// followed with Enter, the current page marked for screen readers.
test.use({ viewport: { width: 768, height: 1024 } });

const LINKS = [
  "Overview",
  "Experiments",
  "Models",
  "Rollouts",
  "Retraining",
  "Recommendations",
  "Monitoring",
  "Admin", // the dashboard's key is an admin's in the e2e product
];

test("at 768 px the nav wraps inside the window and works from the keyboard", async ({ page }) => {
  await page.goto("/models");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByTestId("nav-account")).toContainText("(admin)");
  for (const name of LINKS) {
    const box = await nav.getByRole("link", { name, exact: true }).boundingBox();
    expect(box, name).not.toBeNull();
    expect(box!.x, name).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, name).toBeLessThanOrEqual(768);
  }
  await expect(nav.getByRole("link", { name: "Models", exact: true })).toHaveAttribute(
    "aria-current",
    "page",
  );

  // Tab from the top of the page walks the links in order, then the account link.
  await page.locator("body").focus();
  for (const name of LINKS) {
    await page.keyboard.press("Tab");
    await expect(nav.getByRole("link", { name, exact: true })).toBeFocused();
  }
  await page.keyboard.press("Tab");
  await expect(nav.getByTestId("nav-account")).toBeFocused();

  await nav.getByRole("link", { name: "Monitoring", exact: true }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/monitoring$/);
  await expect(page.getByRole("heading", { name: "Monitoring", level: 1 })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Monitoring", exact: true })).toHaveAttribute(
    "aria-current",
    "page",
  );
});
