import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";
import { ItemList } from "./ItemList.tsx";
import styles from "./panel.module.css";
import { ItemSearch } from "./ItemSearch.tsx";
import type { FoundItem } from "./types.ts";
import { VersionSelect, type VersionChoice } from "./VersionSelect.tsx";

/** The item-to-item explorer: an item's neighbours under the serving version (`/similar`). */
export function SimilarExplorer() {
  const trpc = useTRPC();
  const [item, setItem] = useState<FoundItem | null>(null);
  const [version, setVersion] = useState<VersionChoice | undefined>(undefined);
  const similar = useQuery({
    ...trpc.recommendations.similar.queryOptions({
      itemId: item?.itemId ?? "",
      k: 10,
      ...(version ? { version } : {}),
    }),
    enabled: item !== null,
  });
  return (
    <section aria-labelledby="similar-heading" className={styles.block}>
      <h2 id="similar-heading">Similar items</h2>
      <VersionSelect value={version} onChange={setVersion} />
      <ItemSearch label="Find an item" verb="Show items like" onChoose={setItem} />
      {item ? (
        <div data-testid="similar-panel">
          <h3>Like {item.title}</h3>
          <ErrorNote error={similar.error} action="Could not load similar items" />
          {similar.isPending ? <p>Loading…</p> : null}
          {similar.data ? (
            <>
              <p className="muted">
                From {similar.data.modelVersion}
                {similar.data.fallback ? " (fallback: popularity)" : ""}.
              </p>
              <ItemList items={similar.data.items} label={`Items like ${item.title}`} />
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
