import { openFileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import path from "node:path";
import { runServingSuite } from "./serving-suite.ts";

runServingSuite("embedded adapters (in-process LRU, file log)", {
  cache: async () => new MemoryCache({ maxEntries: 10_000 }),
  bus: (dataDir) => openFileLogBus({ dir: path.join(dataDir, "events") }),
});
