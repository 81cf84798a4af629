import styles from "./rollouts.module.css";

/** A rollout's status as a coloured pill. */
export function RolloutStatusBadge({ status }: { status: string }) {
  return (
    <span className={`status ${styles[status] ?? ""}`} data-testid="rollout-status">
      {status.replace("_", " ")}
    </span>
  );
}
