import { describe, expect, it } from "vitest";
import { workerEnvSchema } from "../src/env.ts";

describe("the worker's environment", () => {
  const parse = (env: Record<string, string>) => workerEnvSchema.safeParse(env);

  it("refuses a retention shorter than the attribution window + 2 h, naming the variable", () => {
    const result = parse({ RETENTION_HOURS: "2", ATTRIBUTION_WINDOW_S: "3600" });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toMatchObject([
      { path: ["RETENTION_HOURS"], message: expect.stringContaining("at least") },
    ]);
    expect(result.error?.issues[0]?.message).toContain("(3 h)");
  });

  it("takes 0 (keep everything), the bound itself and the default", () => {
    expect(parse({ RETENTION_HOURS: "0", ATTRIBUTION_WINDOW_S: "86400" }).success).toBe(true);
    expect(parse({ RETENTION_HOURS: "3", ATTRIBUTION_WINDOW_S: "3600" }).success).toBe(true);
    expect(parse({}).data?.RETENTION_HOURS).toBe(720);
  });
});
