import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { busContractSuite } from "@reco/bus/contract";
import { createEventBus } from "@reco/bus";
import { openFileLogBus } from "../src/file-log.ts";

busContractSuite("file-log", async () => {
  const dir = await mkdtemp(join(tmpdir(), "reco-bus-"));
  const bus = await openFileLogBus({ dir });
  return {
    bus,
    cleanup: async () => {
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("createEventBus without Kafka", () => {
  it("opens the embedded file log under <dataDir>/events", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "reco-data-"));
    try {
      const bus = await createEventBus({ dataDir, clientId: "test" });
      expect(bus.kind).toBe("file-log");
      await bus.ensureTopics(["reco.events.watch"]);
      await bus.close();
      expect(
        JSON.parse(
          await readFile(
            join(dataDir, "events", "topics", "reco.events.watch", "partitions.json"),
            "utf8",
          ),
        ),
      ).toEqual({ partitions: 3 });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
