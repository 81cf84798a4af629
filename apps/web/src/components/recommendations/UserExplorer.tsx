import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";
import { StageBadge } from "../StageBadge.tsx";
import { ItemList } from "./ItemList.tsx";
import styles from "./panel.module.css";
import { useDebounced } from "./use-debounced.ts";

/** Search a user; their recent history beside each servable version's recommendations. */
export function UserExplorer() {
  const trpc = useTRPC();
  const inputId = useId();
  const [text, setText] = useState("");
  const [userId, setUserId] = useState<string | null>(null);
  const prefix = useDebounced(text.trim());
  const users = useQuery({
    ...trpc.recommendations.searchUsers.queryOptions({ prefix, limit: 8 }),
    enabled: prefix.length > 0,
  });
  const history = useQuery({
    ...trpc.recommendations.history.queryOptions({ userId: userId ?? "", limit: 20 }),
    enabled: userId !== null,
  });
  const recs = useQuery({
    ...trpc.recommendations.forUser.queryOptions({ userId: userId ?? "", k: 10 }),
    enabled: userId !== null,
  });
  return (
    <section aria-labelledby="user-heading" className={styles.block}>
      <h2 id="user-heading">A user</h2>
      <form
        className={styles.search}
        onSubmit={(event) => {
          event.preventDefault();
          if (text.trim()) setUserId(text.trim());
        }}
      >
        <label htmlFor={inputId}>User id</label>
        <input
          id={inputId}
          type="search"
          value={text}
          maxLength={256}
          autoComplete="off"
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" className="button">
          Show
        </button>
      </form>
      <ErrorNote error={users.error} action="User search failed" />
      {users.data && users.data.users.length === 0 ? (
        <p className="muted">No user id starts with “{prefix}” (Show still asks for it).</p>
      ) : null}
      {users.data && users.data.users.length > 0 ? (
        <ul className={styles.results} aria-label="Matching users">
          {users.data.users.map((id) => (
            <li key={id}>
              <button
                type="button"
                className={styles.choice}
                aria-pressed={id === userId}
                onClick={() => setUserId(id)}
              >
                User {id}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {userId === null ? null : (
        <div className={styles.columns} data-testid="user-panel">
          <div className={styles.column} data-testid="user-history">
            <h3>History of user {userId}</h3>
            <ErrorNote error={history.error} action="Could not load the history" />
            {history.isPending ? <p>Loading…</p> : null}
            {history.data?.message ? <p className="muted">{history.data.message}</p> : null}
            {history.data && history.data.items.length > 0 ? (
              <>
                <p className="muted">
                  Latest {history.data.items.length} of {history.data.total} items, newest first.
                </p>
                <ol className={styles.items} aria-label={`History of user ${userId}`}>
                  {history.data.items.map((item) => (
                    <li key={item.itemId} data-testid="history-item">
                      <span className={styles.title}>{item.title ?? `item ${item.itemId}`}</span>
                      <span className={styles.meta}>{item.genres.join(", ")}</span>
                    </li>
                  ))}
                </ol>
              </>
            ) : null}
          </div>
          <ErrorNote error={recs.error} action="Could not load recommendations" />
          {recs.isPending ? <p>Loading recommendations…</p> : null}
          {recs.data && recs.data.versions.length === 0 ? (
            <p>No servable model version (none is stable, canary or candidate).</p>
          ) : null}
          {recs.data?.versions.map((version) => (
            <div
              key={`${version.name}@${version.version}`}
              className={styles.column}
              data-testid="version-column"
              data-version={`${version.name}@${version.version}`}
            >
              <h3>
                {version.name} <span className="muted">{version.version}</span>
              </h3>
              <StageBadge stage={version.stage} serving={version.serving} />
              {version.fallback ? (
                <p className={styles.note}>
                  Fallback answer ({version.fallbackReason ?? "no reason given"}).
                </p>
              ) : null}
              <ItemList
                items={version.items}
                label={`Recommendations of ${version.name} ${version.version}`}
              />
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
