export * from "./layout.ts";
export * from "./rows.ts";
export * from "./writer.ts";
export * from "./reader.ts";
export {
  backgroundConnection,
  duckConnection,
  setDuckIdleCloseMs,
  snapshotWriterConnection,
  sqlString,
} from "./duckdb.ts";
export * from "./compact.ts";
export { fsyncPath, pathExists, renameDurably } from "./durable.ts";
export {
  quarantineDir,
  readingSnapshots,
  type QuarantineOptions,
  type QuarantinedSnapshot,
} from "./quarantine.ts";
export {
  eraseUserFromSnapshots,
  filesWithUser,
  rewriteWithoutUser,
  SnapshotEraseIncomplete,
  userSnapshotEvents,
  type EraseUserOptions,
  type EraseUserReport,
  type UserRowsInFile,
  type UserSnapshotEvent,
} from "./erase.ts";
export {
  SNAPSHOT_PREFIX,
  downloadSnapshots,
  removeSnapshotObjects,
  snapshotObjectKey,
  uploadSnapshots,
} from "./objects.ts";
