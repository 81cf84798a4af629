import { recommendQuerySchema } from "@reco/serving";
import { describe, expect, it } from "vitest";
import { queryParser } from "../src/http/parse.ts";

describe("queryParser", () => {
  it("validates a raw query once and hands later requests the same frozen answer", () => {
    const parse = queryParser(recommendQuerySchema);
    const first = parse("k=5&exclude=a,b", { k: "5", exclude: "a,b" });
    expect(first).toEqual({ k: 5, exclude: ["a", "b"] });
    // The second call never looks at the parsed object: the raw string decides.
    expect(parse("k=5&exclude=a,b", { k: "not even looked at" })).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.exclude)).toBe(true);
    expect(() => (first.exclude as string[]).push("c")).toThrow(TypeError);
  });

  it("throws for an invalid query every time, naming the field, and remembers nothing for it", () => {
    const parse = queryParser(recommendQuerySchema);
    for (let i = 0; i < 2; i++)
      expect(() => parse("k=0", { k: "0" })).toThrow(/invalid query: k: k must be at least 1/);
    expect(parse("k=0", { k: "3" })).toEqual({ k: 3, exclude: [] });
  });

  it("forgets everything once it holds `capacity` answers, and still answers correctly", () => {
    const parse = queryParser(recommendQuerySchema, 2);
    const one = parse("k=1", { k: "1" });
    parse("k=2", { k: "2" });
    parse("k=3", { k: "3" }); // full: starts over
    expect(parse("k=1", { k: "1" })).not.toBe(one);
    expect(parse("k=1", { k: "1" })).toEqual({ k: 1, exclude: [] });
  });
});
