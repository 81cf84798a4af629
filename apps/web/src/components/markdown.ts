/**
 * Markdown → HTML for model cards. Cards are generated from metadata, but a registry directory is
 * just files, so the output is made safe here: raw HTML is shown as text, links keep only
 * http(s)/mailto/relative targets, and images become their alt text (no remote fetches).
 */
import { Marked } from "marked";

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** Browsers ignore whitespace and control characters inside a scheme ("java\tscript:"). */
function safeHref(href: string): string | null {
  const compact = [...href].filter((c) => c.charCodeAt(0) > 0x20 && c !== "\u007f").join("");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(compact)?.[1]?.toLowerCase();
  return scheme === undefined || ["http", "https", "mailto"].includes(scheme) ? compact : null;
}

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    link({ href, title, tokens }) {
      const inner = this.parser.parseInline(tokens);
      const target = safeHref(href);
      if (target === null) return inner;
      const titleAttr = title ? ` title="${escapeHtml(title)}"` : "";
      return `<a href="${escapeHtml(target)}"${titleAttr} rel="noopener noreferrer nofollow">${inner}</a>`;
    },
    image({ text }) {
      return escapeHtml(text);
    },
  },
});

export function renderMarkdown(source: string): string {
  return marked.parse(source) as string;
}
