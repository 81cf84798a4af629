import { describe, expect, it } from "vitest";
import { parseRatings, splitByTime } from "./demo-data.ts";

const HEADER = "userId,movieId,rating,timestamp";

describe("parseRatings and splitByTime", () => {
  it("splits each user's ratings by time: the latest fifth (rounded down, ≥ 1) is the future", () => {
    // user 1: 10 ratings written out of time order (items 10..1 at times 10..1 reversed)
    const rows = Array.from({ length: 10 }, (_, i) => `1,${100 + i},4.0,${1000 - i}`);
    // user 2: 12 ratings, two share the latest time: file order decides
    const rows2 = Array.from({ length: 12 }, (_, i) => `2,${200 + i},3.5,${i < 10 ? i : 50}`);
    const byUser = parseRatings([HEADER, ...rows, ...rows2, "3,1,5,1", ""].join("\n"));
    const [u1, u2, ...rest] = splitByTime(byUser);
    expect(rest).toEqual([]); // user 3 has 1 rating (< 10): left out
    expect(u1!.userId).toBe("1");
    // the latest times are 1000 (item 100) and 999 (item 101): 10 · 0.2 = 2 future items
    expect(u1!.future.map((r) => r.itemId)).toEqual(["101", "100"]);
    expect(u1!.past).toHaveLength(8);
    expect(u1!.past[0]!.itemId).toBe("109");
    // 12 · 0.2 = 2.4 → 2; the tie at time 50 keeps the file order (210, 211)
    expect(u2!.future.map((r) => r.itemId)).toEqual(["210", "211"]);
    expect(u2!.future[0]!.rating).toBe(3.5);
  });

  it("keeps at least one future item and honours minRatings and futureFraction", () => {
    const rows = Array.from({ length: 4 }, (_, i) => `7,${i},2,${i}`);
    const byUser = parseRatings([HEADER, ...rows].join("\n"));
    expect(splitByTime(byUser)).toEqual([]);
    const [user] = splitByTime(byUser, { minRatings: 4, futureFraction: 0.1 });
    expect(user!.future.map((r) => r.itemId)).toEqual(["3"]); // 0.4 → at least 1
    expect(() => splitByTime(byUser, { futureFraction: 1 })).toThrow(/futureFraction/);
  });

  it("names the line of a bad row, and a missing header", () => {
    expect(() => parseRatings([HEADER, "1,2,4,5", "1,2,9,5"].join("\n"), "r.csv")).toThrow(
      /^r\.csv:3: /,
    );
    expect(() => parseRatings("1,2,4,5\n")).toThrow(/:1: expected the header/);
  });
});
