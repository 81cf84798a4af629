import { describe, expect, it } from "vitest";
import { pipelineMonitor } from "./pipeline.ts";
import type { CommittedOffset, PartitionOffset } from "./port.ts";

/** Offsets set by the test: a stand-in for the two read-only calls, not for a broker. */
function offsets() {
  const state = {
    committed: new Map<string, CommittedOffset[]>(),
    end: new Map<string, PartitionOffset[]>(),
  };
  return {
    state,
    reader: {
      committedOffsets: async (_group: string, topic: string) => state.committed.get(topic) ?? [],
      endOffsets: async (topic: string) => state.end.get(topic) ?? [],
    },
  };
}

describe("pipelineMonitor", () => {
  it("sums lag and committed records over topics and partitions, and the dead letters", async () => {
    const { state, reader } = offsets();
    state.end.set("a", [
      { partition: 0, offset: "10" },
      { partition: 1, offset: "5" },
    ]);
    state.committed.set("a", [
      { partition: 0, offset: "4" },
      { partition: 1, offset: null },
    ]);
    state.end.set("b", [{ partition: 0, offset: "3" }]);
    state.committed.set("b", [{ partition: 0, offset: "3" }]);
    state.end.set("dlq", [
      { partition: 0, offset: "2" },
      { partition: 1, offset: "1" },
    ]);
    const monitor = pipelineMonitor(reader, {
      groupId: "g",
      topics: ["a", "b"],
      deadLetterTopic: "dlq",
    });
    // lag: (10 − 4) + (5 − 0) + 0 = 11; committed 4 + 0 + 3 = 7; dead letters 2 + 1 = 3
    expect(await monitor.read()).toEqual({
      consumerLag: 11,
      committed: 7,
      deadLetters: 3,
      eventsPerSec: null,
    });
  });

  it("gives a rate from two readings at least the interval apart, none before or after a gap", async () => {
    const { state, reader } = offsets();
    let clock = 1_000_000;
    const monitor = pipelineMonitor(reader, {
      groupId: "g",
      topics: ["a"],
      deadLetterTopic: "dlq",
      now: () => clock,
    });
    state.committed.set("a", [{ partition: 0, offset: "100" }]);
    expect((await monitor.read()).eventsPerSec).toBeNull();
    clock += 2_000; // too soon: still no rate, and the base reading stays
    state.committed.set("a", [{ partition: 0, offset: "150" }]);
    expect((await monitor.read()).eventsPerSec).toBeNull();
    clock += 8_000; // 10 s after the base: (400 − 100) / 10
    state.committed.set("a", [{ partition: 0, offset: "400" }]);
    expect((await monitor.read()).eventsPerSec).toBe(30);
    clock += 1_000; // the last rate is kept until the next full interval
    expect((await monitor.read()).eventsPerSec).toBe(30);
    clock += 3_600_000; // a reading older than 10 min is no base
    state.committed.set("a", [{ partition: 0, offset: "9000" }]);
    expect((await monitor.read()).eventsPerSec).toBeNull();
  });
});
