import styles from "./panel.module.css";
import type { PanelItem } from "./types.ts";

const REASONS: Record<string, string> = {
  personalized: "personalised",
  similar_to_recent: "like recent items",
  similar: "similar",
  popular: "popular",
};

/** A ranked answer: title, genres, score, reason and whether popularity gave the item. */
export function ItemList({ items, label }: { items: PanelItem[]; label: string }) {
  if (items.length === 0) return <p className="muted">No items.</p>;
  return (
    <ol className={styles.items} aria-label={label}>
      {items.map((item) => (
        <li
          key={item.itemId}
          data-testid="rec-item"
          data-item-id={item.itemId}
          data-genres={item.genres.join("|")}
          data-fallback={String(item.fromFallback)}
        >
          <span className={styles.title}>{item.title ?? `item ${item.itemId}`}</span>
          <span className={styles.meta}>
            {item.genres.length > 0 ? item.genres.join(", ") : "no genres"} · score{" "}
            {formatScore(item.score)} · {REASONS[item.reason] ?? item.reason}
            {item.fromFallback ? <span className={styles.fallback}>fallback</span> : null}
          </span>
        </li>
      ))}
    </ol>
  );
}

function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(3);
}
