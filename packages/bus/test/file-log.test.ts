import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busContractSuite } from "@reco/bus/contract";
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
