import { formatTime, GATE_LABELS, gateBound, gateInterval, gateValue } from "./format.ts";
import styles from "./rollouts.module.css";
import type { RolloutEvaluation } from "./types.ts";

/** Each gate's latest value against its threshold, with the verdict and why. */
export function GateTable({ evaluation }: { evaluation: RolloutEvaluation | undefined }) {
  if (!evaluation)
    return (
      <p className="muted" data-testid="gates-empty">
        No evaluation yet: the controller evaluates once the stage runs, every evaluation interval.
      </p>
    );
  return (
    <>
      <p className="muted">
        Last evaluation {formatTime(evaluation.at)} ({evaluation.verdict}).
      </p>
      <table className="table" data-testid="gates">
        <thead>
          <tr>
            <th>Gate</th>
            <th>Candidate</th>
            <th>Stable</th>
            <th>Threshold</th>
            <th title="Click-through and error rate: of candidate − stable. p99 latency: of the candidate's share of responses slower than the threshold, held to 1 %.">
              Interval
            </th>
            <th>Verdict</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {evaluation.gates.map((gate) => (
            <tr key={gate.gate} data-testid={`gate-${gate.gate}`}>
              <th>{GATE_LABELS[gate.gate] ?? gate.gate}</th>
              <td>{gateValue(gate.gate, gate.candidate)}</td>
              <td>{gateValue(gate.gate, gate.stable)}</td>
              <td>
                {gateBound(gate.gate)} {gateValue(gate.gate, gate.threshold)}
              </td>
              <td>{gateInterval(gate)}</td>
              <td className={styles[gate.verdict]} data-testid="gate-verdict">
                {gate.verdict}
              </td>
              <td className="muted">{gate.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
