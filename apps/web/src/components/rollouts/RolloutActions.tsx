"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";
import { ACTION_LABELS, stageLabel } from "./format.ts";
import styles from "./rollouts.module.css";
import type { RolloutAction, RolloutDetail } from "./types.ts";

const DESTRUCTIVE = new Set(["abort", "rollback", "undo"]);

/** Whether `fresh` is still the rollout the engineer decided on: same status, stage and stage start. */
const sameState = (shown: RolloutDetail, fresh: RolloutDetail) =>
  fresh.status === shown.status &&
  fresh.step === shown.step &&
  fresh.stepStartedAt === shown.stepStartedAt;

/**
 * The manual actions the rollout's status allows. A click re-reads the rollout and sends the
 * action with that version only if the rollout is still in the status and stage shown (the
 * controller's evaluations bump the version every interval without changing either); if the
 * status or stage moved meanwhile nothing is sent and the engineer decides again. A change in the
 * instant between that read and the write is refused by the api (409) the same way.
 */
export function RolloutActions({ rollout }: { rollout: RolloutDetail }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState("");
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<{ message: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.rollouts.pathKey() });
  const act = useMutation(
    trpc.rollouts.act.mutationOptions({
      onSuccess: () => {
        setReason("");
        return refresh();
      },
      onError: refresh,
    }),
  );

  async function run(action: RolloutAction) {
    setProblem(null);
    act.reset();
    setChecking(true);
    try {
      const fresh = await queryClient.fetchQuery({
        ...trpc.rollouts.get.queryOptions({ id: rollout.id }),
        staleTime: 0,
      });
      if (!sameState(rollout, fresh) || !fresh.actions.includes(action)) {
        setProblem({
          message: `the rollout changed since it was shown (now ${fresh.status.replace("_", " ")}, ${stageLabel(fresh)}): nothing was done, decide again`,
        });
        return;
      }
      act.mutate({
        id: rollout.id,
        action,
        version: fresh.version,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      });
    } catch (error) {
      setProblem({ message: (error as Error).message });
    } finally {
      setChecking(false);
    }
  }

  if (!rollout.actions.length)
    return (
      <p className="muted" data-testid="no-actions">
        The rollout is {rollout.status.replace("_", " ")}: no action applies.
      </p>
    );
  return (
    <div data-testid="rollout-actions">
      <div className={styles.actions}>
        <label>
          Reason{" "}
          <input
            data-testid="action-reason"
            value={reason}
            maxLength={2000}
            onChange={(e) => setReason(e.target.value)}
            placeholder="recorded in the audit log"
          />
        </label>
        {rollout.actions.map((action) => (
          <button
            key={action}
            className={`button ${DESTRUCTIVE.has(action) ? styles.danger : ""}`}
            data-testid={`action-${action}`}
            disabled={checking || act.isPending}
            onClick={() => void run(action)}
          >
            {ACTION_LABELS[action] ?? action}
          </button>
        ))}
      </div>
      <ErrorNote error={problem} action="Not applied" />
      <ErrorNote
        error={act.error}
        action={
          act.error?.data?.code === "CONFLICT"
            ? "Not applied (reloaded: decide again)"
            : "Could not apply the action"
        }
      />
    </div>
  );
}
