/**
 * Invalidating users' cached answers on feedback: a tag delete (what serving does) against the
 * prefix scan it replaced, side by side on the in-process cache. A feedback batch of `--users`
 * distinct users invalidates each of them once.
 *
 *   npx tsx bench/cache-invalidation/run.ts [--entries 20000] [--users 1000]
 */
import { parseArgs } from "node:util";
import { MemoryCache } from "@reco/cache";

const { values } = parseArgs({
  options: {
    entries: { type: "string", default: "20000" },
    users: { type: "string", default: "1000" },
  },
});
const entries = Number(values.entries);
const users = Number(values.users);
if (!(entries > 0) || !(users > 0)) {
  console.error("--entries and --users must be positive numbers");
  process.exit(1);
}
const usersInCache = Math.max(users, Math.floor(entries / 20));

async function filled(): Promise<MemoryCache> {
  const cache = new MemoryCache({ maxEntries: entries, maxBytes: 1024 * 1024 * 1024 });
  for (let i = 0; i < entries; i++) {
    const user = `u${i % usersInCache}`;
    await cache.setText(`rec:${user}:ials@v1::::${i}`, "x".repeat(200), { tag: `user:${user}` });
  }
  return cache;
}

async function timed(invalidate: (cache: MemoryCache, user: string) => Promise<number>) {
  const cache = await filled();
  const started = performance.now();
  let removed = 0;
  for (let u = 0; u < users; u++) removed += await invalidate(cache, `u${u}`);
  const ms = performance.now() - started;
  await cache.close();
  return { ms, removed };
}

const prefix = await timed((cache, user) => cache.deleteByPrefix(`rec:${user}:`));
const tag = await timed((cache, user) => cache.deleteTag(`user:${user}`));
if (prefix.removed !== tag.removed) throw new Error("both ways must remove the same entries");
console.log(
  `${entries.toLocaleString()} cached answers, ${users} users invalidated (${tag.removed} entries):`,
);
console.log(
  `  prefix scan: ${prefix.ms.toFixed(1)} ms (${((prefix.ms * 1000) / users).toFixed(0)} µs per user)`,
);
console.log(
  `  tag delete:  ${tag.ms.toFixed(1)} ms (${((tag.ms * 1000) / users).toFixed(1)} µs per user)`,
);
console.log(`  tag delete is ${(prefix.ms / tag.ms).toFixed(0)}× faster`);
