import { describe, expect, it, vi } from "vitest";
import { StableModelResolver } from "./resolver.ts";

type Row = { name: string; version: string; artifactPath: string } | null;
/** The store's one method the resolver reads; rows here carry only the fields it uses. */
type VersionStore = ConstructorParameters<typeof StableModelResolver>[0];

/** A version store whose answers the test hands out one by one (or holds, as a hung database). */
function store() {
  const waiting: ((row: Row) => void)[] = [];
  const failing: ((error: Error) => void)[] = [];
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    servingVersion: () =>
      new Promise<Row>((resolve, reject) => {
        calls += 1;
        waiting.push(resolve);
        failing.push(reject);
      }),
    answer(row: Row) {
      failing.shift();
      waiting.shift()!(row);
    },
    fail(error: Error) {
      waiting.shift();
      failing.shift()!(error);
    },
  };
}

const v = (version: string) => ({ name: "m", version, artifactPath: `/r/m/${version}` });
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("StableModelResolver", () => {
  it("waits for the first lookup only; past refreshMs it answers the last version at once and looks up once in the background", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const versions = store();
      const resolver = new StableModelResolver(versions as unknown as VersionStore, 1_000);
      const first = resolver.resolve();
      versions.answer(v("v1"));
      expect((await first).ref).toEqual(v("v1"));

      vi.setSystemTime(Date.now() + 999);
      expect((await resolver.resolve()).ref).toEqual(v("v1"));
      expect(versions.calls).toBe(1); // inside refreshMs: no lookup

      vi.setSystemTime(Date.now() + 1);
      // The database hangs: requests keep their answer without waiting, and share one lookup.
      for (let i = 0; i < 3; i++) expect((await resolver.resolve()).ref).toEqual(v("v1"));
      expect(versions.calls).toBe(2);

      versions.answer(v("v2")); // the promotion, once the lookup returns
      await flush();
      expect((await resolver.resolve()).ref).toEqual(v("v2"));
      expect(versions.calls).toBe(2);

      // A failed lookup keeps the last version, and the next request tries again.
      vi.setSystemTime(Date.now() + 1_000);
      expect((await resolver.resolve()).ref).toEqual(v("v2"));
      versions.fail(new Error("connection refused"));
      await flush();
      expect((await resolver.resolve()).ref).toEqual(v("v2"));
      expect(versions.calls).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it("started, it answers from memory while the database hangs: no request waits, past refreshMs too", async () => {
    const versions = store();
    const resolver = new StableModelResolver(versions as unknown as VersionStore, 0, 60_000);
    const started = resolver.start();
    versions.answer(v("v1"));
    await started;
    // From here on every lookup hangs (a frozen database): none is ever answered.
    const startedAt = performance.now();
    for (let i = 0; i < 5; i++) expect((await resolver.resolve()).ref).toEqual(v("v1"));
    expect(performance.now() - startedAt).toBeLessThan(50);
    expect(versions.calls).toBe(2); // one background lookup, shared by the requests
  });

  it("not started, a first request waits for the hung database at most firstLookupWaitMs, then fails", async () => {
    const versions = store();
    const resolver = new StableModelResolver(versions as unknown as VersionStore, 1_000, 100);
    const asked = performance.now();
    await expect(resolver.resolve()).rejects.toThrow(
      "serving version: no answer from the database in 100 ms",
    );
    expect(performance.now() - asked).toBeLessThan(1_000);
    // The lookup ran on: once the database answers, requests get its version without a new one.
    versions.answer(v("v1"));
    await flush();
    expect((await resolver.resolve()).ref).toEqual(v("v1"));
    expect(versions.calls).toBe(1);
  });

  it("with no version known yet, a failing lookup is the caller's error", async () => {
    const versions = store();
    const resolver = new StableModelResolver(versions as unknown as VersionStore, 1_000);
    const first = resolver.resolve();
    versions.fail(new Error("database unreachable"));
    await expect(first).rejects.toThrow(/database unreachable/);
  });
});
