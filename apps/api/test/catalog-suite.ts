import { expect, it } from "vitest";
import { ITEMS, USERS, type CatalogInstance } from "./catalog-fixture.ts";
import { call } from "./serving-fixture.ts";

export interface CatalogSetup {
  a: CatalogInstance;
  b: CatalogInstance;
  engineerKey: string;
  clientKey: string;
}

const K = 10;
const USER_IDS = Array.from({ length: USERS }, (_, u) => String(u + 1));
/** The bound: a change reaches every answer on every instance within 5 s. */
const PROPAGATION_MS = 5_000;

type Answers = Map<string, string[]>;

async function answers(instance: CatalogInstance, key: string): Promise<Answers> {
  const result: Answers = new Map();
  await Promise.all(
    USER_IDS.map(async (userId) => {
      const response = await call(instance, `/recommend/${userId}?k=${K}`, { key });
      expect(response.status).toBe(200);
      result.set(
        userId,
        response.body.items.map((item: { itemId: string }) => item.itemId),
      );
    }),
  );
  return result;
}

async function similarIds(instance: CatalogInstance, key: string, itemId: string) {
  const response = await call(instance, `/similar/${itemId}?k=${K}`, { key });
  expect(response.status).toBe(200);
  return response.body.items.map((item: { itemId: string }) => item.itemId) as string[];
}

/**
 * Checks `condition` until it returns null (met) or `ms` pass; returns the time it took. The
 * failure names what was still wrong at the end.
 */
async function within(ms: number, condition: () => Promise<string | null>): Promise<number> {
  const started = performance.now();
  let wrong: string | null = "not checked";
  while (performance.now() - started < ms) {
    wrong = await condition();
    if (wrong === null) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`still after ${ms} ms: ${wrong}`);
}

/** Where `itemId` still shows on either instance (recommendations of any user, or /similar of `probe`). */
async function whereShown(
  setup: CatalogSetup,
  itemId: string,
  probe: string,
): Promise<string | null> {
  for (const [name, instance] of [
    ["a", setup.a],
    ["b", setup.b],
  ] as const) {
    for (const [userId, ids] of await answers(instance, setup.clientKey)) {
      if (ids.includes(itemId)) return `item ${itemId} recommended to user ${userId} on ${name}`;
      if (ids.length !== K) return `user ${userId} got ${ids.length} items on ${name}, not ${K}`;
    }
    if ((await similarIds(instance, setup.clientKey, probe)).includes(itemId))
      return `item ${itemId} still similar to ${probe} on ${name}`;
  }
  return null;
}

/**
 * The item API's done-when, through HTTP on two api instances: an item made unavailable (or
 * deleted) leaves every user's recommendations and /similar on both within 5 s, cached answers
 * included; made available again, it comes back.
 */
export function catalogPropagationTests(getSetup: () => CatalogSetup): void {
  it("an item made unavailable leaves every answer on both instances within 5 s, cached ones too, and comes back", async () => {
    const setup = getSetup();
    const { a, b, engineerKey, clientKey } = setup;
    // Answers computed, then served from the cache on both instances.
    const before = await answers(a, clientKey);
    await answers(b, clientKey);
    const cachedAgain = await call(a, `/recommend/1?k=${K}`, { key: clientKey });
    expect(cachedAgain.body.cached).toBe(true);
    expect((await call(b, `/recommend/1?k=${K}`, { key: clientKey })).body.cached).toBe(true);

    // The item in the most answers, and an item whose neighbours include it.
    const counts = new Map<string, number>();
    for (const ids of before.values())
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    const [target, shownTo] = [...counts].sort((x, y) => y[1] - x[1])[0]!;
    expect(shownTo).toBeGreaterThanOrEqual(3);
    let probe: string | undefined;
    for (let i = 1; i <= ITEMS && !probe; i += 1)
      if (String(i) !== target && (await similarIds(a, clientKey, String(i))).includes(target))
        probe = String(i);
    expect(probe).toBeDefined();
    const hadIt = [...before].filter(([, ids]) => ids.includes(target)).map(([user]) => user);

    // Made unavailable through instance a: gone from both.
    const patched = await call(a, `/items/${target}`, {
      method: "PATCH",
      key: engineerKey,
      body: { available: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ itemId: target, available: false, deletedAt: null });
    const hidden = await within(PROPAGATION_MS, () => whereShown(setup, target, probe!));
    expect(hidden).toBeLessThan(PROPAGATION_MS);
    process.stdout.write(
      `item ${target} (in ${shownTo} of ${USERS} answers) gone from both instances after ${Math.round(hidden)} ms\n`,
    );

    // Available again through instance b: back in the answers of the users who had it, on both.
    const restored = await call(b, `/items/${target}`, {
      method: "PATCH",
      key: engineerKey,
      body: { available: true },
    });
    expect(restored.status).toBe(200);
    await within(PROPAGATION_MS, async () => {
      for (const [name, instance] of [
        ["a", a],
        ["b", b],
      ] as const) {
        const now = await answers(instance, clientKey);
        for (const user of hadIt)
          if (!now.get(user)!.includes(target)) return `user ${user} lacks ${target} on ${name}`;
        if (!(await similarIds(instance, clientKey, probe!)).includes(target))
          return `${target} not similar to ${probe} on ${name}`;
      }
      return null;
    });

    // Soft-deleted through b: gone from both, still readable; a PUT brings it back.
    const deleted = await call(b, `/items/${target}`, { method: "DELETE", key: engineerKey });
    expect(deleted.status).toBe(200);
    expect(typeof deleted.body.deletedAt).toBe("string");
    await within(PROPAGATION_MS, () => whereShown(setup, target, probe!));
    const kept = await call(a, `/items/${target}`, { key: clientKey });
    expect(kept.status).toBe(200);
    expect(kept.body.deletedAt).toBe(deleted.body.deletedAt);
    const again = await call(a, `/items/${target}`, {
      method: "PUT",
      key: engineerKey,
      body: { title: `Movie ${target}`, categories: [Number(target) % 2 ? "Comedy" : "Drama"] },
    });
    expect(again.status).toBe(200);
    expect(again.body.deletedAt).toBeNull();
    await within(PROPAGATION_MS, async () => {
      const now = await answers(b, clientKey);
      const back = hadIt.filter((user) => now.get(user)!.includes(target));
      return back.length === hadIt.length
        ? null
        : `${target} back for ${back.length}/${hadIt.length} users on b`;
    });
  });

  it("a category filter keeps k items on both instances; an unknown category is a 400", async () => {
    const { a, b, clientKey } = getSetup();
    for (const instance of [a, b]) {
      const comedy = await call(instance, `/recommend/2?k=${K}&category=comedy`, {
        key: clientKey,
      });
      expect(comedy.status).toBe(200);
      const ids = comedy.body.items.map((item: { itemId: string }) => Number(item.itemId));
      expect(ids).toHaveLength(K);
      expect(ids.every((id: number) => id % 2 === 1)).toBe(true);
      const similar = await call(instance, `/similar/3?k=5&excludeCategory=Comedy`, {
        key: clientKey,
      });
      expect(similar.status).toBe(200);
      expect(similar.body.items).toHaveLength(5);
      expect(
        similar.body.items.every((item: { itemId: string }) => Number(item.itemId) % 2 === 0),
      ).toBe(true);
      const typo = await call(instance, `/recommend/2?category=comdy`, { key: clientKey });
      expect(typo.status).toBe(400);
      expect(typo.body.error.message).toContain('"comdy"');
    }
  });
}
