import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";
import { ItemList } from "./ItemList.tsx";
import styles from "./panel.module.css";
import { ItemSearch } from "./ItemSearch.tsx";
import type { FoundItem } from "./types.ts";
import { VersionSelect, type VersionChoice } from "./VersionSelect.tsx";

/** As the api bounds a fold-in request (`itemIds`). */
const MAX_PICKS = 50;

/**
 * "Try as a new user": picked items are a history the serving version folds in; the answer is
 * asked again on every pick (with none, a cold user's popularity).
 */
export function NewUserTry() {
  const trpc = useTRPC();
  const [picks, setPicks] = useState<FoundItem[]>([]);
  const [version, setVersion] = useState<VersionChoice | undefined>(undefined);
  const recs = useQuery({
    ...trpc.recommendations.foldIn.queryOptions({
      itemIds: picks.map((item) => item.itemId),
      k: 10,
      ...(version ? { version } : {}),
    }),
    placeholderData: keepPreviousData,
  });
  const picked = new Set(picks.map((item) => item.itemId));
  return (
    <section aria-labelledby="newuser-heading" className={styles.block}>
      <h2 id="newuser-heading">Try as a new user</h2>
      <p className="muted">
        Pick items as a new user would interact with them; the recommendations follow each pick.
      </p>
      <VersionSelect value={version} onChange={setVersion} />
      <ItemSearch
        label="Find an item to pick"
        verb="Pick"
        disabled={(item) => picked.has(item.itemId) || picks.length >= MAX_PICKS}
        onChoose={(item) => setPicks((current) => [...current, item])}
      />
      <ul className={styles.chips} aria-label="Picked items">
        {picks.map((item) => (
          <li
            key={item.itemId}
            className={styles.chip}
            data-testid="pick-chip"
            data-genres={item.genres.join("|")}
          >
            {item.title}
            <button
              type="button"
              aria-label={`Remove ${item.title}`}
              onClick={() => setPicks((current) => current.filter((p) => p.itemId !== item.itemId))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {picks.length === 0 ? <p className="muted">No picks yet: a cold user’s answer.</p> : null}
      <div data-testid="newuser-recs" data-picks={picks.length} aria-busy={recs.isFetching}>
        <ErrorNote error={recs.error} action="Could not load recommendations" />
        {recs.isPending ? <p>Loading…</p> : null}
        {recs.data ? (
          <>
            <p className="muted" data-testid="newuser-source">
              {recs.data.name} {recs.data.version}
              {recs.data.fallback ? ` — fallback (${recs.data.fallbackReason})` : ""}
              {recs.isFetching ? " — updating…" : ""}
            </p>
            <ItemList items={recs.data.items} label="Recommendations for the new user" />
          </>
        ) : null}
      </div>
    </section>
  );
}
