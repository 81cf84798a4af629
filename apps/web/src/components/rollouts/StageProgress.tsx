import { formatCount } from "../../format.ts";
import { formatElapsed, stageLabel, usersAt } from "./format.ts";
import styles from "./rollouts.module.css";
import type { RolloutDetail } from "./types.ts";

function Meter({
  value,
  of,
  testId,
  text,
}: {
  value: number;
  of: number;
  testId: string;
  text: string;
}) {
  const pct = of > 0 ? Math.min(100, (value / of) * 100) : 100;
  return (
    <div>
      <span data-testid={testId} data-value={value}>
        {text}
      </span>
      <div className={styles.bar} aria-hidden>
        <div className={styles.fill} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** The current stage: its share, running time against its minimum, users per arm against theirs. */
export function StageProgress({ rollout }: { rollout: RolloutDetail }) {
  const stage = rollout.step >= 0 ? rollout.stages[rollout.step] : undefined;
  const users = usersAt(rollout.evaluations.at(-1));
  return (
    <div className={styles.meter} data-testid="stage-progress">
      <strong>Stage</strong>
      <span data-testid="rollout-stage">{stageLabel(rollout)}</span>
      <strong>Candidate traffic</strong>
      <span data-testid="rollout-traffic">{rollout.trafficPct} % of users</span>
      {stage ? (
        <>
          <strong>Elapsed / minimum</strong>
          <Meter
            testId="stage-elapsed"
            value={rollout.stageElapsedMs}
            of={stage.minDurationS * 1000}
            text={`${formatElapsed(rollout.stageElapsedMs)} of ${formatElapsed(stage.minDurationS * 1000)}${rollout.status === "paused" ? " (clock stopped)" : ""}`}
          />
          <strong>Candidate users</strong>
          <Meter
            testId="users-candidate"
            value={users?.candidate ?? 0}
            of={stage.minUsersPerArm}
            text={`${users ? formatCount(users.candidate) : "–"} of ${formatCount(stage.minUsersPerArm)}`}
          />
          <strong>Stable users</strong>
          <Meter
            testId="users-stable"
            value={users?.stable ?? 0}
            of={stage.trafficPct < 100 ? stage.minUsersPerArm : 0}
            text={`${users ? formatCount(users.stable) : "–"}${stage.trafficPct < 100 ? ` of ${formatCount(stage.minUsersPerArm)}` : ""}`}
          />
          <strong>Inconclusive</strong>
          <span>
            {rollout.inconclusiveCount} of {rollout.gates.maxInconclusive} allowed past the minimum
            time
          </span>
        </>
      ) : null}
    </div>
  );
}
