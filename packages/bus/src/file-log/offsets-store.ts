/**
 * Committed offsets of the file log's consumer groups: one small JSON file per group,
 * `{ "<topic>": { "<partition>": <next offset> } }`, replaced atomically (write a temp file,
 * fsync it, rename over the old one, fsync the directory) so a crash leaves either the old or the
 * new commit, never a torn file. Commits of one group are serialised in this process; a group
 * must live in one process (two processes committing the same group would overwrite each other).
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { replaceFileDurably } from "./durable.ts";

export type GroupOffsets = Record<string, Record<string, number>>;

export class OffsetsStore {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly dir: string) {}

  fileFor(groupId: string): string {
    return join(this.dir, `${encodeURIComponent(groupId)}.json`);
  }

  async read(groupId: string): Promise<GroupOffsets> {
    const file = this.fileFor(groupId);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw error;
    }
    try {
      return JSON.parse(text) as GroupOffsets;
    } catch (cause) {
      throw new Error(`committed offsets file ${file} is not valid JSON`, { cause });
    }
  }

  /** Merges `updates` into the group's offsets and persists them atomically. */
  commit(
    groupId: string,
    updates: { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    const previous = this.chains.get(groupId) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const offsets = await this.read(groupId);
        for (const { topic, partition, offset } of updates)
          (offsets[topic] ??= {})[String(partition)] = offset;
        await mkdir(this.dir, { recursive: true });
        await replaceFileDurably(this.fileFor(groupId), JSON.stringify(offsets));
      });
    this.chains.set(groupId, next);
    return next;
  }
}
