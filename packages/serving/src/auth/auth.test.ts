import { describe, expect, it } from "vitest";
import { apiKeyFromHeaders, apiKeyPrefix, generateApiKey, hashApiKey } from "./api-key.ts";
import { roleAllows } from "./roles.ts";

describe("API keys", () => {
  it("a generated key carries its prefix, and only its sha256 is meant to be stored", () => {
    const { key, prefix, hash } = generateApiKey();
    expect(key).toMatch(/^reco_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyPrefix(key)).toBe(prefix);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(generateApiKey().key).not.toBe(key);
  });

  it("malformed keys have no prefix (they never reach the database)", () => {
    for (const bad of [
      "",
      "reco_",
      "reco_XYZ_abc",
      `reco_0123456789ab_${"a".repeat(42)}`,
      `Reco_0123456789ab_${"a".repeat(43)}`,
    ]) {
      expect(apiKeyPrefix(bad)).toBeNull();
    }
  });

  it("reads Bearer and X-API-Key; a malformed Authorization still counts as a key sent", () => {
    expect(apiKeyFromHeaders({ authorization: "Bearer abc" })).toBe("abc");
    expect(apiKeyFromHeaders({ authorization: "bearer   abc  " })).toBe("abc");
    expect(apiKeyFromHeaders({ "x-api-key": " k " })).toBe("k");
    expect(apiKeyFromHeaders({ authorization: "Basic xyz" })).toBe("Basic xyz");
    expect(apiKeyFromHeaders({})).toBeUndefined();
  });
});

describe("roles", () => {
  it("client keys serve; dashboard roles are ranked; admin can do both", () => {
    expect(roleAllows("client", "client")).toBe(true);
    expect(roleAllows("admin", "client")).toBe(true);
    expect(roleAllows("viewer", "client")).toBe(false);
    expect(roleAllows("client", "viewer")).toBe(false);
    expect(roleAllows("pm", "viewer")).toBe(true);
    expect(roleAllows("pm", "engineer")).toBe(false);
    expect(roleAllows("engineer", "pm")).toBe(true);
    expect(roleAllows("engineer", "admin")).toBe(false);
  });
});
