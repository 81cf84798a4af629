/**
 * API key administration:
 *   npm run keys -w @reco/serving -- create --role client [--name "mobile app"]
 *   npm run keys -w @reco/serving -- revoke <prefix>
 *   npm run keys -w @reco/serving -- list
 * Uses DATABASE_URL, else the embedded database in DATA_DIR (default .data) — PGlite allows one
 * process, so stop the embedded api first (or use the dashboard's admin API).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { envFields, parseEnv } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import { z } from "zod";
import { ApiKeyStore } from "../auth/key-store.ts";
import { ROLES, isRole } from "../auth/roles.ts";

const USAGE = `usage: api-keys create --role <${ROLES.join("|")}> [--name <text>] | revoke <prefix> | list`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { role: { type: "string" }, name: { type: "string" } },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const [command, ...rest] = positionals;
if (!command || !["create", "revoke", "list"].includes(command))
  fail(`unknown command ${JSON.stringify(command ?? "")}`);
if (command === "create" && !(values.role && isRole(values.role)))
  fail(`--role must be one of ${ROLES.join(", ")}`);
if (command === "revoke" && rest.length !== 1) fail("revoke takes exactly one key prefix");

let env;
try {
  env = parseEnv(
    z.object({ DATABASE_URL: envFields.databaseUrl, DATA_DIR: envFields.dataDir }),
    process.env,
  );
} catch (error) {
  fail((error as Error).message);
}
const db = await openDatabase({
  databaseUrl: env.DATABASE_URL,
  dataDir: path.resolve(env.DATA_DIR),
});
const store = new ApiKeyStore(db.prisma);
try {
  if (command === "create") {
    const created = await store.create({
      role: values.role as (typeof ROLES)[number],
      name: values.name ?? "",
    });
    process.stdout.write(
      `created ${created.role} key ${created.prefix}${created.name ? ` (${created.name})` : ""}\n` +
        `${created.key}\n` +
        "store it now: it is shown once and only its hash is kept\n",
    );
  } else if (command === "revoke") {
    const revoked = await store.revoke(rest[0]!);
    if (!revoked) {
      process.stderr.write(`no active key with prefix ${JSON.stringify(rest[0])}\n`);
      process.exitCode = 1;
    } else process.stdout.write(`revoked ${rest[0]}\n`);
  } else {
    for (const key of await store.list()) {
      process.stdout.write(
        `${key.prefix}  ${key.role.padEnd(8)}  ${key.revoked ? "revoked" : "active "}  last used ${key.lastUsedAt?.toISOString() ?? "never"}  ${key.name}\n`,
      );
    }
  }
} finally {
  await db.close();
}
