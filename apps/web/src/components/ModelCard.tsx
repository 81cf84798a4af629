"use client";

import { useMemo } from "react";
import { renderMarkdown } from "./markdown.ts";
import styles from "./models.module.css";

/** A version's MODEL_CARD.md, rendered through the escaping renderer in markdown.ts. */
export function ModelCard({ markdown }: { markdown: string }) {
  const html = useMemo(() => renderMarkdown(markdown), [markdown]);
  // Safe: renderMarkdown escapes raw HTML and keeps only harmless link targets.
  return (
    <article
      className={styles.card}
      data-testid="model-card"
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
