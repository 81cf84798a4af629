import { spawn, spawnSync } from "node:child_process";
import { appendFile, mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCollecting, uniqueName, waitFor } from "@reco/bus/contract";
import { CorruptLog, partitionForKey, type BusConsumer } from "../src/index.ts";
import { openFileLogBus } from "../src/file-log.ts";
import { encodeRecord } from "../src/file-log/record.ts";

const KEY = "user-42";
const PARTITION = partitionForKey(KEY, 3);

describe("file log: damaged files, restarts and other processes", () => {
  let dir: string;
  let topic: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "reco-bus-faults-"));
    topic = uniqueName("faults");
    file = join(dir, "topics", topic, `${PARTITION}.log`);
    const bus = await openFileLogBus({ dir });
    await bus.ensureTopics([topic], 3);
    await bus.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, seq) => ({ key: KEY, value: { seq } })),
    );
    await bus.close();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function readAll(bus: Awaited<ReturnType<typeof openFileLogBus>>, expected: number) {
    const c = await startCollecting(bus, { groupId: uniqueName("reader"), topics: [topic] });
    await waitFor(
      `${expected} records`,
      () => c.received.length >= expected,
      10_000,
      () => c.received.length,
    );
    await c.consumer.stop();
    return c.received.map((m) => ({
      offset: m.offset,
      seq: (JSON.parse(m.value.toString()) as { seq: number }).seq,
    }));
  }

  it("truncates a torn last line on open, keeps earlier records and appends after them", async () => {
    const goodSize = (await stat(file)).size;
    const next = encodeRecord({
      offset: 5,
      timestamp: Date.now(),
      key: KEY,
      value: Buffer.from('{"seq":5}'),
    });
    await appendFile(file, next.subarray(0, Math.floor(next.length / 2)));

    const bus = await openFileLogBus({ dir });
    await bus.endOffsets(topic); // opens (and repairs) the topic
    expect(bus.repairs).toEqual([
      { file, position: goodSize, truncatedBytes: Math.floor(next.length / 2) },
    ]);
    expect((await stat(file)).size).toBe(goodSize);
    await bus.publish(topic, { key: KEY, value: { seq: 99 } });
    expect(await readAll(bus, 6)).toEqual(
      [0, 1, 2, 3, 4, 99].map((seq, i) => ({ offset: String(i), seq })),
    );
    await bus.close();

    const reopened = await openFileLogBus({ dir });
    expect((await reopened.endOffsets(topic))[PARTITION]?.offset).toBe("6");
    expect(reopened.repairs).toEqual([]);
    await reopened.close();
  });

  it("truncates a zero-filled tail left by a crash", async () => {
    const goodSize = (await stat(file)).size;
    await appendFile(file, Buffer.alloc(4096));
    const bus = await openFileLogBus({ dir });
    expect((await bus.endOffsets(topic))[PARTITION]?.offset).toBe("5");
    expect(bus.repairs).toEqual([{ file, position: goodSize, truncatedBytes: 4096 }]);
    await bus.close();
  });

  it("refuses a log with a corrupt byte in the middle, naming the file and position, and leaves it untouched", async () => {
    const bytes = await readFile(file);
    const lines = bytes.toString("latin1").split("\n");
    const recordTwoStart = lines.slice(0, 2).reduce((n, line) => n + line.length + 1, 0);
    const damaged = Buffer.from(bytes);
    const at = recordTwoStart + lines[2]!.length - 3; // inside record 2's JSON payload
    damaged[at] = damaged[at] === 0x41 ? 0x42 : 0x41;
    await writeFile(file, damaged);

    const bus = await openFileLogBus({ dir });
    const error = await bus.endOffsets(topic).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptLog);
    expect((error as CorruptLog).message).toContain(file);
    expect((error as CorruptLog).message).toContain(
      `at byte ${recordTwoStart}: checksum mismatch (offset 2)`,
    );
    expect((error as CorruptLog).position).toBe(recordTwoStart);
    await expect(bus.publish(topic, { key: KEY, value: { seq: 5 } })).rejects.toThrow(CorruptLog);
    expect((await readFile(file)).equals(damaged)).toBe(true);
    await bus.close();
  });

  // contract: crash
  it("crashes a consumer with CorruptLog when a record is damaged after the log was opened", async () => {
    const bus = await openFileLogBus({ dir });
    expect((await bus.endOffsets(topic))[PARTITION]?.offset).toBe("5"); // opened and validated
    const bytes = await readFile(file);
    const at = bytes.indexOf('"seq":3'); // a JSON value is stored inline in the record
    expect(at).toBeGreaterThan(0);
    const fh = await open(file, "r+");
    await fh.write(Buffer.from("9"), 0, 1, at + 6); // seq 3 → 9: same length, wrong checksum
    await fh.close();
    const c = await startCollecting(bus, { groupId: uniqueName("rot"), topics: [topic] });
    await waitFor(
      "a crash report",
      () => c.crashes.length > 0,
      10_000,
      () => c.received.length,
    );
    expect(c.crashes[0]).toBeInstanceOf(CorruptLog);
    expect(c.crashes[0]?.message).toContain(file);
    expect(c.crashes[0]?.message).toMatch(/at byte \d+: checksum mismatch \(reading offset 3\)/);
    expect(c.received.map((m) => m.offset)).toEqual([]);
    await bus.close();
  });

  // contract: join, crash
  it("refuses to assign partitions from an unreadable offsets file: the joiner's run() names the file, running members crash", async () => {
    const bus = await openFileLogBus({ dir });
    const groupId = uniqueName("broken-offsets");
    const running = await startCollecting(bus, { groupId, topics: [topic] });
    await waitFor(
      "5 records",
      () => running.received.length === 5,
      10_000,
      () => running.received.length,
    );
    const offsetsFile = join(dir, "groups", `${groupId}.json`);
    await mkdir(join(dir, "groups"), { recursive: true });
    await writeFile(offsetsFile, '{"half-written":');
    const joiner = bus.consumer({ groupId, topics: [topic] });
    await expect(joiner.run(async () => undefined)).rejects.toThrow(
      `committed offsets file ${offsetsFile} is not valid JSON`,
    );
    await waitFor("the running member's crash", () => running.crashes.length > 0, 10_000);
    expect(running.crashes[0]?.message).toContain(offsetsFile);
    expect(running.consumer.assignment()).toEqual([]);
    await bus.close();
  });

  // contract: stop (file log: a commit inside the last callback works)
  it("lets a member commit from onPartitionsRevoked while it stops", async () => {
    const bus = await openFileLogBus({ dir });
    const groupId = uniqueName("flush-on-revoke");
    const holder: { consumer?: BusConsumer; lastSeen?: string } = {};
    const c = await startCollecting(bus, {
      groupId,
      topics: [topic],
      bind: (consumer) => (holder.consumer = consumer),
      onPartitionsRevoked: async (partitions) => {
        const lastSeen = holder.lastSeen;
        if (lastSeen && partitions.some((tp) => tp.partition === PARTITION))
          await holder.consumer!.commit([
            { topic, partition: PARTITION, offset: String(Number(lastSeen) + 1) },
          ]);
      },
    });
    await waitFor(
      "5 records",
      () => c.received.length === 5,
      10_000,
      () => c.received.length,
    );
    holder.lastSeen = c.received.at(-1)!.offset;
    await c.consumer.stop();
    expect(c.crashes).toEqual([]);
    expect(await bus.committedOffsets(groupId, topic)).toContainEqual({
      partition: PARTITION,
      offset: "5",
    });
    await bus.close();
  });

  // contract: restart
  it("resumes a group at its committed offset after the whole bus is reopened", async () => {
    const groupId = uniqueName("restart");
    const first = await openFileLogBus({ dir });
    const c = await startCollecting(first, { groupId, topics: [topic] });
    await waitFor(
      "5 records",
      () => c.received.length === 5,
      10_000,
      () => c.received.length,
    );
    await c.consumer.commit([{ topic, partition: PARTITION, offset: "3" }]);
    await first.close();

    const second = await openFileLogBus({ dir });
    await second.publish(topic, { key: KEY, value: { seq: 5 } });
    const resumed = await startCollecting(second, { groupId, topics: [topic] });
    await waitFor(
      "3 records",
      () => resumed.received.length >= 3,
      10_000,
      () => resumed.received.length,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(resumed.received.map((m) => m.offset)).toEqual(["3", "4", "5"]);
    expect(await second.committedOffsets(groupId, topic)).toContainEqual({
      partition: PARTITION,
      offset: "3",
    });
    await second.close();
  });

  it("lets only one writer open a directory; a read-only handle follows new records and never truncates", async () => {
    const writer = await openFileLogBus({ dir });
    await expect(openFileLogBus({ dir })).rejects.toThrow(
      /already open for writing by process \d+/,
    );

    const reader = await openFileLogBus({ dir, readOnly: true, pollIntervalMs: 20 });
    await expect(reader.publish(topic, { key: KEY, value: {} })).rejects.toThrow(/read-only/);
    const follower = await startCollecting(reader, {
      groupId: uniqueName("follower"),
      topics: [topic],
    });
    await waitFor(
      "5 records",
      () => follower.received.length === 5,
      10_000,
      () => follower.received.length,
    );

    await writer.publish(topic, { key: KEY, value: { seq: 5 } });
    await waitFor(
      "the 6th record via polling",
      () => follower.received.length === 6,
      10_000,
      () => follower.received.length,
    );
    expect(follower.received.at(-1)?.offset).toBe("5");

    // A record still being written (half a line) must be left alone by the reader.
    const partial = encodeRecord({
      offset: 6,
      timestamp: Date.now(),
      key: KEY,
      value: Buffer.from("{}"),
    }).subarray(0, 10);
    await appendFile(file, partial);
    const sizeWithPartial = (await stat(file)).size;
    expect((await reader.endOffsets(topic))[PARTITION]?.offset).toBe("6");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await stat(file)).size).toBe(sizeWithPartial);
    expect(reader.repairs).toEqual([]);
    await reader.close();
    await writer.close();
  });

  it("takes over the writer lock of a process that died", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    await writeFile(join(dir, "writer.lock"), dead.stdout);
    const bus = await openFileLogBus({ dir });
    expect(await readFile(join(dir, "writer.lock"), "utf8")).toBe(String(process.pid));
    await bus.close();
  });

  it("stores and delivers a record larger than the read window, between small ones", async () => {
    const bus = await openFileLogBus({ dir });
    const big = "x".repeat(3 * 1024 * 1024);
    await bus.publishBatch(topic, [
      { key: KEY, value: { seq: 5, big } },
      { key: KEY, value: { seq: 6 } },
    ]);
    const c = await startCollecting(bus, { groupId: uniqueName("big"), topics: [topic] });
    await waitFor(
      "7 records",
      () => c.received.length === 7,
      10_000,
      () => c.received.length,
    );
    expect((JSON.parse(c.received[5]!.value.toString()) as { big: string }).big).toHaveLength(
      big.length,
    );
    expect(c.received.map((m) => m.offset)).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
    await c.consumer.stop();
    await bus.close();
  });

  it("lets a follower in another process read while this one writes, without taking the lock or touching the files", async () => {
    const writer = await openFileLogBus({ dir });
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/read-only-follower.ts", import.meta.url)),
      ],
      {
        env: { ...process.env, DIR: dir, TOPIC: topic },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const lines: string[] = [];
    let stderr = "";
    child.stdout
      .setEncoding("utf8")
      .on("data", (chunk: string) => lines.push(...chunk.split("\n").filter(Boolean)));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const received = () => lines.filter((l) => l.startsWith("RECEIVED ")).length;
    try {
      await waitFor(
        "the follower to read 5 records",
        () => received() === 5,
        20_000,
        () => ({ lines, stderr }),
      );
      expect(lines[0]).toMatch(
        new RegExp(`^WRITER-REFUSED .*already open for writing by process ${process.pid}`),
      );
      await writer.publishBatch(
        topic,
        Array.from({ length: 3 }, (_, i) => ({ key: KEY, value: { seq: 5 + i } })),
      );
      await waitFor(
        "the follower to read 8 records",
        () => received() === 8,
        20_000,
        () => ({ lines, stderr }),
      );
      const sizeBefore = (await stat(file)).size;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await stat(file)).size).toBe(sizeBefore);
      expect(await readFile(join(dir, "writer.lock"), "utf8")).toBe(String(process.pid));
    } finally {
      child.kill("SIGKILL");
      await writer.close();
    }
  });
});
