/**
 * Embedded bus throughput, as ratios against a baseline measured in the same run:
 * baseline = one awaited publish at a time (one write + fdatasync each); compared with N
 * concurrent publishes (coalesced by group commit) and one publishBatch; plus consuming it all.
 *   npx tsx packages/bus/bench/file-log-publish.ts [records=2000]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFileLogBus } from "../src/file-log.ts";

const records = Number(process.argv[2] ?? 2000);
const dir = await mkdtemp(join(tmpdir(), "reco-bus-bench-"));
const bus = await openFileLogBus({ dir });
const message = (i: number) => ({
  key: `user-${i % 500}`,
  value: {
    schemaVersion: 1,
    type: "watch",
    userId: `user-${i % 500}`,
    itemId: `item-${i}`,
    eventTime: new Date().toISOString(),
  },
});

async function timed(label: string, topic: string, run: () => Promise<void>): Promise<number> {
  await bus.ensureTopics([topic]);
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const perSecond = records / seconds;
  console.log(`${label.padEnd(34)} ${perSecond.toFixed(0).padStart(9)} records/s`);
  return perSecond;
}

try {
  const baseline = await timed("sequential publish (baseline)", "bench.sequential", async () => {
    for (let i = 0; i < records; i++) await bus.publish("bench.sequential", message(i));
  });
  const concurrent = await timed(
    "concurrent publish (group commit)",
    "bench.concurrent",
    async () => {
      await Promise.all(
        Array.from({ length: records }, (_, i) => bus.publish("bench.concurrent", message(i))),
      );
    },
  );
  const batch = await timed("one publishBatch", "bench.batch", () =>
    bus.publishBatch(
      "bench.batch",
      Array.from({ length: records }, (_, i) => message(i)),
    ),
  );
  const consume = await timed("consume everything (one member)", "bench.batch", async () => {
    let seen = 0;
    const consumer = bus.consumer({ groupId: "bench", topics: ["bench.batch"] });
    await new Promise<void>((resolve) => {
      void consumer.run(async ({ messages }) => {
        seen += messages.length;
        if (seen >= records) resolve();
      });
    });
    await consumer.stop();
  });
  console.log(
    `ratios vs baseline: concurrent ${(concurrent / baseline).toFixed(1)}x, batch ${(batch / baseline).toFixed(1)}x, consume ${(consume / baseline).toFixed(1)}x`,
  );
} finally {
  await bus.close();
  await rm(dir, { recursive: true, force: true });
}
