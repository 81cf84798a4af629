import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { openDatabase } from "../src/index.ts";

// PostgreSQL's default is 128MB of WebAssembly memory held from the first query; the embedded
// database asks for 16MB (bench/memory: the api at rest about 115 MB smaller). This checks that
// the setting reaches the server, not PGlite's own defaults, and that the rest of them survive.
it("the embedded database runs with 16MB of shared buffers and PGlite's own start settings", async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "pglite-settings-"));
  const db = await openDatabase({ dataDir });
  try {
    const show = async (name: string) =>
      (await db.prisma.$queryRawUnsafe<Record<string, string>[]>(`SHOW ${name}`))[0]![name];
    expect(await show("shared_buffers")).toBe("16MB");
    expect(await show("search_path")).toBe("public");
    expect(await show("max_worker_processes")).toBe("0");
  } finally {
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
