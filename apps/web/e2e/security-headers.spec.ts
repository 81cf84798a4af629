import { expect, test } from "@playwright/test";

/**
 * The dashboard's security headers, on every page and on the tRPC proxy, and the pages still work
 * under its Content-Security-Policy: each renders its data with no CSP violation reported.
 */
const PAGES: Array<[path: string, heading: string]> = [
  ["/", "Overview"],
  ["/experiments", "A/B experiments"],
  ["/models", "Model versions"],
  ["/rollouts", "Rollouts"],
  ["/monitoring", "Monitoring"],
  ["/recommendations", "Recommendations"],
  ["/retraining", "Retraining"],
  ["/signin", "API key"],
];

function directives(csp: string): Map<string, string> {
  return new Map(
    csp
      .split(";")
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [name, ...values] = part.split(/\s+/);
        return [name!, values.join(" ")] as const;
      }),
  );
}

for (const [path, heading] of PAGES) {
  test(`${path}: CSP (frame-ancestors 'none'), Referrer-Policy, nosniff, and no CSP violation while it renders`, async ({
    page,
  }) => {
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        (window as unknown as { __csp: string[] }).__csp ??= [];
        (window as unknown as { __csp: string[] }).__csp.push(
          `${event.violatedDirective} ${event.blockedURI}`,
        );
      });
    });
    const response = await page.goto(path);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    const csp = directives(headers["content-security-policy"] ?? "");
    expect(csp.get("frame-ancestors")).toBe("'none'");
    expect(csp.get("default-src")).toBe("'self'");
    expect(csp.get("object-src")).toBe("'none'");
    expect(csp.get("script-src")).not.toContain("unsafe-eval"); // the production build needs no eval
    expect(headers["referrer-policy"]).toBe("no-referrer");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["x-frame-options"]).toBe("DENY");

    await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
    if (path === "/") await expect(page.getByTestId("count-items")).toContainText("9,125");
    await page.waitForLoadState("networkidle");
    const reported = await page.evaluate(
      () => (window as unknown as { __csp?: string[] }).__csp ?? [],
    );
    expect([...violations, ...reported]).toEqual([]);
  });
}

test("the tRPC proxy's answers carry the headers too", async ({ page }) => {
  const response = await page.request.get("/api/trpc/stats.counts?batch=1&input=%7B%7D");
  const headers = response.headers();
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(directives(headers["content-security-policy"] ?? "").get("frame-ancestors")).toBe(
    "'none'",
  );
});

test("the dashboard's routes refuse an oversized body with 413 before forwarding it", async ({
  page,
}) => {
  const trpc = await page.request.post("/api/trpc/apiKeys.create", {
    headers: { "content-type": "application/json" },
    data: JSON.stringify({ name: "x".repeat(300 * 1024), role: "client" }),
  });
  expect(trpc.status()).toBe(413);
  expect(await trpc.json()).toMatchObject({
    error: {
      code: "PAYLOAD_TOO_LARGE",
      message: "request body too large: POST /api/trpc/apiKeys.create accepts at most 262144 bytes",
    },
  });
  const signIn = await page.request.post("/api/session", {
    headers: { "content-type": "application/json" },
    data: JSON.stringify({ key: "k".repeat(5 * 1024) }),
  });
  expect(signIn.status()).toBe(413);
  // a body within the limits still goes through: a wrong key is refused by the api, not by size
  const wrongKey = await page.request.post("/api/session", {
    headers: { "content-type": "application/json" },
    data: JSON.stringify({ key: "reco_000000000000_wrong" }),
  });
  expect(wrongKey.status()).toBe(401);
});

test("answers of the tRPC proxy are not stored by caches (they can hold a new key)", async ({
  page,
}) => {
  const response = await page.request.get("/api/trpc/session.whoami?batch=1&input=%7B%7D");
  expect(response.headers()["cache-control"] ?? "").toContain("no-store");
});
