"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { ReactNode } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";

const REFRESH_MS = 5_000;

interface Figure {
  key: string;
  label: string;
  value: number | null;
  previous: number | null;
  unit: string;
  href: string;
  note?: string;
}

const digits = (unit: string) => (unit === "%" ? 2 : unit === "ms" ? 1 : 0);
const show = (value: number, unit: string) =>
  `${value.toLocaleString("en-US", { maximumFractionDigits: digits(unit) })} ${unit}`;
// Over the JSON link dates arrive as ISO strings.
const when = (value: Date | string | null) =>
  value === null ? "–" : new Date(value).toISOString().slice(0, 16).replace("T", " ") + " UTC";

/** Up, down or flat against the window before; the arrow says direction, not good or bad. */
function Trend({ figure }: { figure: Figure }) {
  if (figure.value === null || figure.previous === null) return null;
  const delta = figure.value - figure.previous;
  const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "▬";
  return (
    <div className="muted" data-testid={`health-trend-${figure.key}`}>
      {arrow} from {show(figure.previous, figure.unit)}
    </div>
  );
}

/**
 * A tile of what is running: its title links to the page; `unavailable` says why the api cannot
 * know (a part it runs without), shown instead of the content.
 */
function StatusTile({
  testId,
  title,
  href,
  unavailable,
  children,
}: {
  testId: string;
  title: string;
  href: string;
  unavailable: string | null;
  children: ReactNode;
}) {
  return (
    <div className="card" data-testid={testId}>
      <div className="label">
        <Link href={href}>{title}</Link>
      </div>
      {unavailable ? <div className="muted">n/a: {unavailable}</div> : children}
    </div>
  );
}

function LinkList({
  items,
  empty,
}: {
  items: Array<{ key: string; href: string; text: string }>;
  empty: string;
}) {
  if (items.length === 0) return <div className="muted">{empty}</div>;
  return (
    <ul>
      {items.map((item) => (
        <li key={item.key}>
          <Link href={item.href}>{item.text}</Link>
        </li>
      ))}
    </ul>
  );
}

/** The system at a glance: figure tiles with trends, and what is running; refreshes itself. */
export function HealthTiles() {
  const trpc = useTRPC();
  const health = useQuery({
    ...trpc.stats.health.queryOptions({ minutes: 5 }),
    refetchInterval: REFRESH_MS,
  });
  const data = health.data;
  return (
    <>
      <h2>Health, last 5 minutes</h2>
      <ErrorNote error={health.error} action="Could not load the system's health" />
      {health.isPending ? <p aria-busy="true">Loading…</p> : null}
      {data ? (
        <>
          <p className="muted">
            Against the 5 minutes before; refreshes every {REFRESH_MS / 1000} s.
          </p>
          <div className="cards" data-testid="health-tiles">
            {data.figures.map((figure) => (
              <Link
                className="card"
                key={figure.key}
                href={figure.href}
                data-testid={`health-${figure.key}`}
                title={figure.note}
                style={{ color: "inherit", textDecoration: "none" }}
              >
                <div className="value">
                  {figure.value === null ? "n/a" : show(figure.value, figure.unit)}
                </div>
                <div className="label">
                  {figure.label} ({figure.unit})
                </div>
                {figure.value === null && figure.note ? (
                  <div className="muted">{figure.note}</div>
                ) : figure.value === null ? (
                  <div className="muted">no traffic in the window</div>
                ) : (
                  <Trend figure={figure} />
                )}
              </Link>
            ))}
          </div>
          <div className="cards">
            <StatusTile
              testId="health-experiments"
              title="Running experiments"
              href="/experiments"
              unavailable={data.experiments.available ? null : "experiments are not configured"}
            >
              <LinkList
                empty="none running"
                items={data.experiments.running.map((e) => ({
                  key: e.key,
                  href: `/experiments/${encodeURIComponent(e.key)}`,
                  text: e.key,
                }))}
              />
            </StatusTile>
            <StatusTile
              testId="health-rollouts"
              title="Active rollouts"
              href="/rollouts"
              unavailable={data.rollouts.available ? null : "rollouts are not configured"}
            >
              <LinkList
                empty="none active"
                items={data.rollouts.active.map((r) => ({
                  key: String(r.id),
                  href: `/rollouts/${r.id}`,
                  text: `${r.modelName}: ${r.status}, ${r.trafficPct} % of traffic`,
                }))}
              />
            </StatusTile>
            <StatusTile
              testId="health-retraining"
              title="Retraining"
              href="/retraining"
              unavailable={data.retraining.available ? null : "retraining is not configured"}
            >
              <div>
                Last:{" "}
                {data.retraining.last
                  ? `${data.retraining.last.status}, ${when(data.retraining.last.finishedAt)}`
                  : "never"}
              </div>
              {data.retraining.active ? (
                <div className="muted">
                  run #{data.retraining.active.id} {data.retraining.active.status}
                </div>
              ) : null}
            </StatusTile>
          </div>
        </>
      ) : null}
    </>
  );
}
