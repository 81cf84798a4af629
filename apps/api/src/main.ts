import path from "node:path";
import { openDatabase } from "@reco/db";
import { ApiKeyStore, PopularityRanker, createCatalogStats, ensureDevApiKey } from "@reco/serving";
import { pino } from "pino";
import { loadApiEnv } from "./env.ts";
import { buildServer } from "./server.ts";

// Composition root: the only place that reads the environment and creates clients.
const env = loadApiEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: "api" } });
const dataDir = path.resolve(env.DATA_DIR);
const snapshotsRoot = path.join(dataDir, "snapshots");

const db = await openDatabase({
  databaseUrl: env.DATABASE_URL,
  dataDir,
  log: (message) => logger.debug({ component: "db" }, message),
});
logger.info({ database: db.kind }, "database open, migrations applied");

const keys = new ApiKeyStore(db.prisma);
if (!env.DATABASE_URL) {
  const devKey = await ensureDevApiKey(keys, path.join(dataDir, "dev-api-key"), env.DEV_API_KEY);
  process.stdout.write(
    `development API key (admin): ${devKey}\n  (saved in ${path.join(dataDir, "dev-api-key")})\n`,
  );
}

let popularity: PopularityRanker | undefined;
const loadPopularity = async () => {
  const catalog = await db.prisma.item.findMany({
    select: { externalId: true },
    orderBy: { id: "asc" },
  });
  popularity = await PopularityRanker.fromSnapshots(
    snapshotsRoot,
    catalog.map((item) => item.externalId),
  );
  logger.info({ items: popularity.size }, "popularity fallback loaded");
};
await loadPopularity().catch((error: unknown) =>
  logger.error({ err: error }, "popularity fallback failed to load"),
);

const app = await buildServer({
  logger,
  authenticator: keys,
  services: { stats: createCatalogStats({ prisma: db.prisma, snapshotsRoot }) },
  readiness: {
    database: () => db.ping(),
    model: async () => (popularity?.size ?? 0) > 0,
  },
  corsOrigins: env.CORS_ORIGINS,
});

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ signal }, "shutting down: no new connections, draining in-flight requests");
  const force = setTimeout(() => {
    logger.error("shutdown took over 10 s; exiting");
    process.exit(1);
  }, 10_000);
  force.unref();
  try {
    await app.close();
    await db.close();
  } finally {
    clearTimeout(force);
  }
  process.exit(0);
}
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));

const address = await app.listen({ port: env.PORT, host: env.HOST });
process.stdout.write(`api listening on ${address} (tRPC at ${address}/trpc)\n`);
