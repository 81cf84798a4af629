import { z } from "zod";

/** Server-side settings of the dashboard, parsed once. */
const schema = z.object({
  /**
   * Where the api listens; the dashboard proxies tRPC calls there so the browser stays same-origin.
   * Several instances (comma-separated, `npm start` with API_INSTANCES) take the calls in turn.
   */
  API_URL: z
    .string()
    .default("http://127.0.0.1:4000")
    .transform((value) =>
      value
        .split(",")
        .map((part) => part.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    )
    .pipe(z.array(z.url()).min(1, "API_URL: give at least one URL")),
  /** Key used for visitors who have not signed in with their own (embedded demo only). */
  DASHBOARD_API_KEY: z.string().optional(),
});

export const webEnv = schema.parse({
  API_URL: process.env.API_URL || undefined,
  DASHBOARD_API_KEY: process.env.DASHBOARD_API_KEY || undefined,
});

let turn = 0;
/** The api instance for the next call: the configured ones in turn. */
export function apiUrl(): string {
  const urls = webEnv.API_URL;
  turn = (turn + 1) % urls.length;
  return urls[turn]!;
}
