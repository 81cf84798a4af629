import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * The api itself, asked directly (not through the dashboard) with the development admin key the
 * embedded api saved in DATA_DIR: what the journey compares the pages with.
 */
export class ApiClient {
  private readonly key: string;

  constructor(
    private readonly apiUrl: string,
    dataDir: string,
  ) {
    this.key = readFileSync(path.join(dataDir, "dev-api-key"), "utf8").trim();
  }

  private async get(pathAndQuery: string): Promise<unknown> {
    const response = await fetch(`${this.apiUrl}${pathAndQuery}`, {
      headers: { authorization: `Bearer ${this.key}` },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.status !== 200)
      throw new Error(`GET ${pathAndQuery}: ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text);
  }

  /** REST GET /recommend/:userId. */
  recommend(userId: string, k = 10) {
    return this.get(`/recommend/${encodeURIComponent(userId)}?k=${k}`) as Promise<{
      items: { itemId: string; reason: string }[];
      modelVersion: string;
      fallback: boolean;
      variant?: string;
      experimentKey?: string;
    }>;
  }

  /** A tRPC query on the api's /trpc, batched as the dashboard's client sends it. */
  async query<T>(procedure: string, input: unknown = {}): Promise<T> {
    const encoded = encodeURIComponent(JSON.stringify({ 0: input }));
    const answer = (await this.get(`/trpc/${procedure}?batch=1&input=${encoded}`)) as [
      { result: { data: T } },
    ];
    return answer[0].result.data;
  }
}
