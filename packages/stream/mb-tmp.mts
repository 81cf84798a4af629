import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeValidatedSnapshot } from "./src/parquet-batch.ts";
const t0 = Date.parse("2026-01-05T10:00:00Z");
const N = 50000;
const records = Array.from({length: N}, (_, i) => ({ offset: i, payload: JSON.stringify({ schemaVersion: 1, eventId: `ev-${i}`, eventTime: new Date(t0 + i * 10).toISOString(), userId: `user-${i % 50_000}`, type: "watch", itemId: `item-${i % 9_000}`, progress: (i % 100) / 100, recId: i % 4 === 0 ? `rec-${i >> 2}` : undefined, context: { device: i % 2 ? "web" : "tv", country: "FR" } }) }));
const root = await mkdtemp(path.join(tmpdir(), "mbq-"));
let best = 1e9;
for (let r = 0; r < 8; r++) {
  const c = process.cpuUsage();
  await writeValidatedSnapshot(root, { topic: "t", partition: 0, firstOffset: BigInt(r * N), lastOffset: BigInt(r * N + N - 1) }, records, new Date(t0));
  const u = process.cpuUsage(c);
  best = Math.min(best, (u.user + u.system) / N);
}
console.log(process.env.LABEL, "best cpu µs/event", best.toFixed(2));
