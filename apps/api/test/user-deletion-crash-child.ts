/**
 * One api instance (PGlite and the file-backed log in CRASH_DIR) whose user deletion kills the
 * whole process with SIGKILL right after the first snapshot file is rewritten: the test hook of
 * UserDataService, passed here only. Run by user-deletion-crash.test.ts.
 */
import path from "node:path";
import { openFileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import { startCatalogInstance } from "./catalog-fixture.ts";

const dir = process.env.CRASH_DIR;
if (!dir) throw new Error("CRASH_DIR is not set");
const db = await openDatabase({ dataDir: dir });
const bus = await openFileLogBus({ dir: path.join(dir, "events") });
const topics = topicNames("embedded");
await bus.ensureTopics(Object.values(topics));
const instance = await startCatalogInstance({
  db,
  cache: new MemoryCache({ maxEntries: 1_000 }),
  bus,
  topics,
  snapshotsRoot: path.join(dir, "snapshots"),
  userDeletion: {
    afterSnapshotFileRewritten: (_file, rewritten) => {
      if (rewritten === 1) process.kill(process.pid, "SIGKILL");
    },
  },
});
process.stdout.write(`listening ${instance.baseUrl}\n`);
