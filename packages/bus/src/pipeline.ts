import { consumerLag, type EventBus, type PartitionOffset } from "./port.ts";

/** What a consumer group has processed and not yet, and how many records sit in a dead-letter topic. */
export interface PipelineBacklog {
  /** Records of `topics` the group has not committed, summed over their partitions. */
  consumerLag: number;
  /** Records of `topics` the group has committed (its committed offsets, summed). */
  committed: number;
  /** Records ever written to the dead-letter topic (its end offsets; Kafka's retention aside). */
  deadLetters: number;
}

export interface PipelineOptions {
  groupId: string;
  topics: readonly string[];
  deadLetterTopic: string;
}

type OffsetReader = Pick<EventBus, "committedOffsets" | "endOffsets">;

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const offsetSum = (offsets: readonly { offset: string | null }[]) =>
  sum(offsets.map(({ offset }) => Number(offset ?? 0)));

/**
 * The backlog of the stream worker's group, read from the bus alone, so any process with a bus
 * (the api, for its overview) can report it without asking the worker.
 */
export async function readPipelineBacklog(
  bus: OffsetReader,
  options: PipelineOptions,
): Promise<PipelineBacklog> {
  const [perTopic, deadLetters] = await Promise.all([
    Promise.all(
      options.topics.map(async (topic) => {
        const [committed, end] = await Promise.all([
          bus.committedOffsets(options.groupId, topic),
          bus.endOffsets(topic),
        ]);
        return { lag: offsetSum(consumerLag(committed, end)), committed: offsetSum(committed) };
      }),
    ),
    bus.endOffsets(options.deadLetterTopic),
  ]);
  return {
    consumerLag: sum(perTopic.map((t) => t.lag)),
    committed: sum(perTopic.map((t) => t.committed)),
    deadLetters: offsetSum(deadLetters as PartitionOffset[]),
  };
}

export interface PipelineReading extends PipelineBacklog {
  /** Records committed per second between this reading and one 5 s to 10 min older; null before. */
  eventsPerSec: number | null;
}

/**
 * Reads the backlog and the rate at which the group commits (= writes snapshots), from two
 * readings at least `minIntervalMs` apart: the overview polls, so the second poll has a rate.
 */
export function pipelineMonitor(
  bus: OffsetReader,
  options: PipelineOptions & { minIntervalMs?: number; maxAgeMs?: number; now?: () => number },
) {
  const now = options.now ?? Date.now;
  const minIntervalMs = options.minIntervalMs ?? 5_000;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  let base: { at: number; committed: number } | null = null;
  let rate: number | null = null;
  return {
    async read(): Promise<PipelineReading> {
      const backlog = await readPipelineBacklog(bus, options);
      const at = now();
      if (base && at - base.at > maxAgeMs) {
        base = null;
        rate = null;
      }
      if (!base) {
        base = { at, committed: backlog.committed };
      } else if (at - base.at >= minIntervalMs) {
        // A committed total that went down (offsets reset, topics recreated) has no rate.
        const delta = backlog.committed - base.committed;
        rate = delta >= 0 ? delta / ((at - base.at) / 1000) : null;
        base = { at, committed: backlog.committed };
      }
      return { ...backlog, eventsPerSec: rate };
    },
  };
}

export type PipelineMonitor = ReturnType<typeof pipelineMonitor>;
