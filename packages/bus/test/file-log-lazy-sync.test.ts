import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCollecting, uniqueName, waitFor } from "@reco/bus/contract";
import { BadInput } from "@reco/contracts";
import { openFileLogBus, type FileLogBus } from "../src/file-log.ts";

/** Records in a topic's files, counted from the bytes on disk (one line each), not by the log. */
async function linesOnDisk(dir: string, topic: string): Promise<number> {
  const topicDir = join(dir, "topics", topic);
  let lines = 0;
  for (const name of await readdir(topicDir)) {
    if (!name.endsWith(".log")) continue;
    const text = await readFile(join(topicDir, name), "latin1");
    lines += text.split("\n").length - 1;
  }
  return lines;
}

const total = async (bus: FileLogBus, topic: string) =>
  (await bus.endOffsets(topic)).reduce((sum, p) => sum + Number(p.offset), 0);

const batch = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `user-${from + i}`, value: { seq: from + i } }));

describe("file log: topics synced on a schedule (lazySync)", () => {
  let dir: string;
  let lazy: string;
  let strict: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "reco-bus-lazy-"));
    lazy = uniqueName("lazy");
    strict = uniqueName("strict");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes at once, but shows records to consumers only once a sync made them durable", async () => {
    const bus = await openFileLogBus({ dir, lazySync: { topics: [lazy], everyMs: 60_000 } });
    try {
      await bus.ensureTopics([lazy, strict], 3);
      await bus.publishBatch(lazy, batch(0, 30));
      await bus.publishBatch(strict, batch(0, 30));
      // Both are in the files; only the strict topic's records are durable, and visible.
      expect(await linesOnDisk(dir, lazy)).toBe(30);
      expect(await linesOnDisk(dir, strict)).toBe(30);
      expect(await total(bus, strict)).toBe(30);
      expect(await total(bus, lazy)).toBe(0);
      const reader = await startCollecting(bus, { groupId: uniqueName("g"), topics: [lazy] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(reader.received).toHaveLength(0);
      await reader.consumer.stop();
    } finally {
      await bus.close(); // syncs what is written
    }
    const reopened = await openFileLogBus({ dir });
    try {
      expect(await total(reopened, lazy)).toBe(30);
    } finally {
      await reopened.close();
    }
  });

  it("syncs every everyMs: consumers get every record, in order per key, with later writes too", async () => {
    const bus = await openFileLogBus({ dir, lazySync: { topics: [lazy], everyMs: 50 } });
    try {
      await bus.ensureTopics([lazy], 3);
      const reader = await startCollecting(bus, { groupId: uniqueName("g"), topics: [lazy] });
      for (let i = 0; i < 10; i++) await bus.publishBatch(lazy, batch(i * 25, 25));
      await waitFor(
        "250 records",
        () => reader.received.length >= 250,
        10_000,
        () => reader.received.length,
      );
      const seqs = reader.received.map(
        (m) => (JSON.parse(m.value.toString()) as { seq: number }).seq,
      );
      expect(seqs.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
      expect(await total(bus, lazy)).toBe(250);
      await reader.consumer.stop();
    } finally {
      await bus.close();
    }
  });

  it("loses no published record when the process is killed before any sync (SIGKILL)", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./fixtures/publish-lazily.ts", import.meta.url))],
      {
        env: { ...process.env, DIR: dir, TOPIC: lazy, COUNT: "200" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      await waitFor(
        "200 records published",
        () => stdout.includes("PUBLISHED 200\n"),
        30_000,
        () => ({
          stdout,
          stderr,
        }),
      );
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    const reopened = await openFileLogBus({ dir });
    try {
      expect(reopened.repairs).toEqual([]);
      expect(await total(reopened, lazy)).toBe(200);
      const reader = await startCollecting(reopened, { groupId: uniqueName("g"), topics: [lazy] });
      await waitFor(
        "200 records",
        () => reader.received.length >= 200,
        10_000,
        () => reader.received.length,
      );
      await reader.consumer.stop();
    } finally {
      await reopened.close();
    }
  });

  it("refuses a bad sync interval or topic name, naming it", async () => {
    await expect(openFileLogBus({ dir, lazySync: { topics: [lazy], everyMs: 0 } })).rejects.toThrow(
      new BadInput("lazySync.everyMs must be an integer in 1..60000, got 0"),
    );
    await expect(openFileLogBus({ dir, lazySync: { topics: ["bad topic"] } })).rejects.toThrow(
      /bad topic/,
    );
  });
});
