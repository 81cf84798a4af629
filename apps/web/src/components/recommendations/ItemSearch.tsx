import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";
import styles from "./panel.module.css";
import type { FoundItem } from "./types.ts";
import { useDebounced } from "./use-debounced.ts";

/** A title search whose results are buttons: `verb` names what choosing one does. */
export function ItemSearch({
  label,
  verb,
  onChoose,
  disabled,
}: {
  label: string;
  verb: string;
  onChoose: (item: FoundItem) => void;
  disabled?: (item: FoundItem) => boolean;
}) {
  const trpc = useTRPC();
  const inputId = useId();
  const [text, setText] = useState("");
  const query = useDebounced(text.trim());
  const found = useQuery({
    ...trpc.recommendations.searchItems.queryOptions({ query, limit: 8 }),
    enabled: query.length > 0,
  });
  return (
    <div className={styles.search}>
      <label htmlFor={inputId}>{label}</label>
      <input
        id={inputId}
        type="search"
        value={text}
        maxLength={200}
        autoComplete="off"
        onChange={(event) => setText(event.target.value)}
      />
      <ErrorNote error={found.error} action="Search failed" />
      {query && found.isPending ? <p className="muted">Searching…</p> : null}
      {found.data && found.data.items.length === 0 ? (
        <p className="muted">No title contains “{query}”.</p>
      ) : null}
      {found.data && found.data.items.length > 0 ? (
        <ul className={styles.results} aria-label={`${label}: results`}>
          {found.data.items.map((item) => (
            <li key={item.itemId}>
              <button
                type="button"
                className={styles.choice}
                aria-label={`${verb} ${item.title}`}
                disabled={disabled?.(item)}
                onClick={() => onChoose(item)}
              >
                {item.title} <span className={styles.meta}>{item.genres.join(", ")}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
