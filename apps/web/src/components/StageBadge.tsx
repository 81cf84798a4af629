import styles from "./models.module.css";

const STAGE_CLASS: Record<string, string | undefined> = {
  candidate: styles.candidate,
  canary: styles.canary,
  stable: styles.stable,
  retired: styles.retired,
};

/** A version's stage, and whether it is the one `/recommend` serves. */
export function StageBadge({ stage, serving }: { stage: string; serving?: boolean }) {
  return (
    <span className={styles.badges}>
      <span className={`status ${STAGE_CLASS[stage] ?? ""}`} data-testid="stage">
        {stage}
      </span>
      {serving ? (
        <span className={`status ${styles.serving}`} title="the newest stable version serves">
          serving
        </span>
      ) : null}
    </span>
  );
}
