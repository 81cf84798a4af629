import { formatTime } from "./format.ts";
import type { RolloutDetail } from "./types.ts";

/** Every change of the rollout: when, who, what, from → to, and why. Newest first. */
export function AuditLog({ events }: { events: RolloutDetail["events"] }) {
  return (
    <table className="table" data-testid="audit-log">
      <thead>
        <tr>
          <th>Time</th>
          <th>Actor</th>
          <th>Action</th>
          <th>From → to</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {[...events].reverse().map((event) => (
          <tr key={event.id} data-testid="audit-row">
            <td>{formatTime(event.at)}</td>
            <td data-testid="audit-actor">{event.actor}</td>
            <td data-testid="audit-action">{event.action}</td>
            <td>
              {event.fromStatus || "–"} → {event.toStatus}
            </td>
            <td data-testid="audit-reason">{event.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
