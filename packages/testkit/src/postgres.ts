import { chownSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { ManagedProcess, makeTempDir, type PrivateProcess } from "./managed-process.ts";
import { freePort } from "./ports.ts";
import { run } from "./repo.ts";

export interface PrivatePostgres extends PrivateProcess {
  /** postgresql://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  readonly port: number;
}

/**
 * Starts a PostgreSQL server of its own (initdb in a temp dir, free port), for fault-injection
 * tests. As root it runs as the `postgres` user, which PostgreSQL requires.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const port = await freePort();
  const dir = makeTempDir("postgres");
  const data = join(dir, "data");
  const owner = await serviceUser();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  try {
    await run(
      join(bin, "initdb"),
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
      { ...asOwner, cwd: dir, timeout: 120_000 },
    );
  } catch (error) {
    throw new Error(`private postgres: initdb in ${data} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const service = new ManagedProcess(
    {
      name: `private postgres on 127.0.0.1:${port}`,
      command: join(bin, "postgres"),
      args: [
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "listen_addresses=127.0.0.1",
        // Skipping fsync loses nothing when only the process dies (the tests' faults), not the OS.
        "-c",
        "fsync=off",
        "-c",
        "shared_buffers=16MB",
        "-c",
        "max_connections=40",
      ],
      ...asOwner,
      logFile: join(dir, "postgres.log"),
      stopSignal: "SIGINT", // fast shutdown: rolls back open transactions, no waiting for clients
      stopTimeoutMs: 20_000,
      ready: () => selectOne(url),
      readyTimeoutMs: 30_000,
    },
    dir,
  );
  await service.start();
  return Object.assign(service, { url, port });
}

/** The newest installed server's bin dir, e.g. /usr/lib/postgresql/15/bin (Debian layout). */
function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const newest = versions.at(-1);
  if (!newest)
    throw new Error(
      `private postgres: no server under ${root}; run scripts/services.sh up postgres`,
    );
  return join(root, newest, "bin");
}

async function serviceUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([
    run("id", ["-u", "postgres"]),
    run("id", ["-g", "postgres"]),
  ]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function selectOne(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => {});
  }
}
