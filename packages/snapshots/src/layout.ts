import { readdir } from "node:fs/promises";
import path from "node:path";

/** Identity of one snapshot file: a contiguous, inclusive offset range of one topic partition. */
export interface SnapshotRange {
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export interface SnapshotFile extends SnapshotRange {
  path: string;
  date: string;
  hour: string;
}

const FILE_PATTERN = /^part-(\d+)-(\d+)-(\d+)\.parquet$/;

/** `part-<partition>-<firstOffset>-<lastOffset>.parquet`: deterministic from the range alone. */
export function snapshotFileName(range: SnapshotRange): string {
  return `part-${range.partition}-${range.firstOffset}-${range.lastOffset}.parquet`;
}

/** `topic=…/date=YYYY-MM-DD/hour=HH` (UTC) for the hour an event time falls in. */
export function snapshotDir(root: string, topic: string, eventTime: Date): string {
  const iso = eventTime.toISOString();
  return path.join(root, `topic=${topic}`, `date=${iso.slice(0, 10)}`, `hour=${iso.slice(11, 13)}`);
}

/** Parses a path written by writeSnapshot; null for anything else (temp files, foreign files). */
export function parseSnapshotPath(filePath: string): SnapshotFile | null {
  const parts = filePath.split(path.sep);
  const name = parts.at(-1) ?? "";
  const match = FILE_PATTERN.exec(name);
  const hour = parts.at(-2)?.match(/^hour=(\d{2})$/)?.[1];
  const date = parts.at(-3)?.match(/^date=(\d{4}-\d{2}-\d{2})$/)?.[1];
  const topic = parts.at(-4)?.match(/^topic=(.+)$/)?.[1];
  if (!match || !hour || !date || !topic) return null;
  return {
    path: filePath,
    topic,
    partition: Number(match[1]),
    firstOffset: BigInt(match[2]!),
    lastOffset: BigInt(match[3]!),
    date,
    hour,
  };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Every snapshot file under root, optionally for one topic / partition, ordered by offset. */
export async function listSnapshotFiles(
  root: string,
  filter: { topic?: string; partition?: number } = {},
): Promise<SnapshotFile[]> {
  const files: SnapshotFile[] = [];
  const topicDirs = filter.topic ? [`topic=${filter.topic}`] : await listDir(root);
  for (const topicDir of topicDirs) {
    if (!topicDir.startsWith("topic=")) continue;
    for (const dateDir of await listDir(path.join(root, topicDir))) {
      for (const hourDir of await listDir(path.join(root, topicDir, dateDir))) {
        for (const name of await listDir(path.join(root, topicDir, dateDir, hourDir))) {
          const parsed = parseSnapshotPath(path.join(root, topicDir, dateDir, hourDir, name));
          if (!parsed) continue;
          if (filter.partition !== undefined && parsed.partition !== filter.partition) continue;
          files.push(parsed);
        }
      }
    }
  }
  return files.sort((a, b) =>
    a.topic === b.topic
      ? a.partition - b.partition || Number(a.firstOffset - b.firstOffset)
      : a.topic < b.topic
        ? -1
        : 1,
  );
}

/** Highest offset already on disk for a partition, or -1n: a restarted consumer resumes after it. */
export async function coveredOffset(
  root: string,
  topic: string,
  partition: number,
): Promise<bigint> {
  let covered = -1n;
  for (const file of await listSnapshotFiles(root, { topic, partition })) {
    if (file.lastOffset > covered) covered = file.lastOffset;
  }
  return covered;
}
