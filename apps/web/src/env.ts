import { z } from "zod";

/** Server-side settings of the dashboard, parsed once. */
const schema = z.object({
  /** Where the api listens; the dashboard proxies tRPC calls there so the browser stays same-origin. */
  API_URL: z.url().default("http://127.0.0.1:4000"),
  /** Key used for visitors who have not signed in with their own (embedded demo only). */
  DASHBOARD_API_KEY: z.string().optional(),
});

export const webEnv = schema.parse({
  API_URL: process.env.API_URL || undefined,
  DASHBOARD_API_KEY: process.env.DASHBOARD_API_KEY || undefined,
});
