import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import type { WorkerHealth } from "@reco/stream";

/** The standalone process's tiny operations server: GET /metrics (Prometheus) and GET /healthz. */
export async function startWorkerHttp(options: {
  port: number;
  host?: string;
  registry: Registry;
  health: () => WorkerHealth;
}): Promise<Server & { port: number }> {
  const server = createServer((request, response) => {
    const url = request.url?.split("?")[0];
    if (request.method === "GET" && url === "/metrics") {
      options.registry.metrics().then(
        (body) =>
          response.writeHead(200, { "content-type": options.registry.contentType }).end(body),
        (error: Error) => response.writeHead(500).end(error.message),
      );
      return;
    }
    if (request.method === "GET" && url === "/healthz") {
      const health = options.health();
      response
        .writeHead(health.status === "ok" ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify(health));
      return;
    }
    response.writeHead(404, { "content-type": "application/json" }).end(
      JSON.stringify({
        error: { code: "NOT_FOUND", message: `no route ${request.method} ${url}` },
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", resolve);
  });
  const address = server.address();
  return Object.assign(server, {
    port: typeof address === "object" && address ? address.port : options.port,
  });
}
