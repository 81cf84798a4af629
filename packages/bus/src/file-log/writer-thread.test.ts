import { openSync, closeSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseRecord } from "./record.ts";
import { WriterThread, type AppendRequest } from "./writer-thread.ts";

const dir = mkdtempSync(path.join(tmpdir(), "writer-thread-"));
const thread = new WriterThread();
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
});
afterAll(async () => {
  await thread.close();
  rmSync(dir, { recursive: true, force: true });
});

function batch(fd: number, position: number, firstOffset: number, n: number) {
  return {
    fd,
    position,
    firstOffset,
    indexEvery: 4,
    keys: Array.from({ length: n }, (_, i) => `user-${i}`),
    values: Array.from({ length: n }, (_, i) =>
      i % 2 ? `{"n":${firstOffset + i}}` : Buffer.from(`{"n":${firstOffset + i}}`),
    ),
    timestamps: Array.from({ length: n }, (_, i) => 1_000 + i),
    sync: true,
  } satisfies Omit<AppendRequest, "id">;
}

function appendFd(name: string, flags = "a"): { file: string; fd: number } {
  const file = path.join(dir, name);
  writeFileSync(file, "");
  const fd = openSync(file, flags);
  fds.push(fd);
  return { file, fd };
}

describe("event log writer thread", () => {
  it("writes a batch durably at the end of the file and reports its size and the indexed positions", async () => {
    const { file, fd } = appendFd("ok.log");
    const first = await thread.append(batch(fd, 0, 0, 6));
    expect(first).toMatchObject({ ok: true });
    if (!first.ok) return;
    const second = await thread.append(batch(fd, first.bytes, 6, 3));
    if (!second.ok) throw new Error(second.message);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(first.bytes + second.bytes);
    // Every record parses in order, and offsets 0, 4 and 8 start where the thread said.
    const starts: number[] = [];
    let at = 0;
    for (let offset = 0; offset < 9; offset++) {
      const step = parseRecord(bytes, at, offset);
      if (step.kind !== "record") throw new Error(`offset ${offset}: ${JSON.stringify(step)}`);
      expect(JSON.parse(step.record.value.toString("utf8"))).toEqual({ n: offset });
      expect(step.record.key).toBe(`user-${offset < 6 ? offset : offset - 6}`); // per batch
      if (offset % 4 === 0) starts.push(at);
      at += step.length;
    }
    expect([...first.indexed, ...second.indexed]).toEqual(starts);
  });

  it("answers a failed write with its reason, and whether the file could be cut back", async () => {
    const { fd } = appendFd("read-only.log", "r");
    const reply = await thread.append(batch(fd, 0, 0, 2));
    expect(reply).toMatchObject({ ok: false, message: expect.stringMatching(/EBADF/) });
    // A read-only descriptor cannot be truncated either: the caller must treat the log as broken.
    expect(reply.ok === false && reply.truncated).toBe(false);
  });

  it("fails the writes in flight when the thread dies, and starts a new one for the next write", async () => {
    const { fd } = appendFd("dies.log");
    const inFlight = thread.append(batch(fd, 0, 0, 20_000));
    await thread.close();
    await expect(inFlight).rejects.toThrow(/writer thread exited/);
    const { fd: fresh } = appendFd("after.log");
    const reply = await thread.append(batch(fresh, 0, 0, 2));
    expect(reply.ok).toBe(true);
  });
});
