/**
 * `npm run train -- <command>`: train, evaluate, tune, export, list. The only place the CLI reads
 * the environment (DATABASE_URL, DATA_DIR). Failures print one line and exit non-zero:
 * 2 for bad input or usage, 1 for anything else (a diverged training run, a corrupt artifact).
 */
import { AppError, envFields, parseEnv } from "@reco/contracts";
import { z } from "zod";
import { storageEnvFields } from "@reco/storage/env";
import { type CommandSpec, type ParsedCommand, parseCommand, renderHelp } from "./args.ts";
import type { CommandContext } from "./context.ts";
import { type Console, processConsole } from "./output.ts";
import { recommenders } from "../models/index.ts";

interface Command {
  spec: CommandSpec<z.ZodType>;
  run(cmd: ParsedCommand<never>, ctx: CommandContext): Promise<number>;
}

/** Loaded on demand: `list` need not pay for DuckDB, training or the database client. */
const commands: Record<string, () => Promise<Command>> = {
  train: async () => {
    const m = await import("./commands/train.ts");
    return { spec: m.trainSpec, run: m.runTrain as Command["run"] };
  },
  evaluate: async () => {
    const m = await import("./commands/evaluate.ts");
    return { spec: m.evaluateSpec, run: m.runEvaluate as Command["run"] };
  },
  tune: async () => {
    const m = await import("./commands/tune.ts");
    return { spec: m.tuneSpec, run: m.runTune as Command["run"] };
  },
  export: async () => {
    const m = await import("./commands/export.ts");
    return { spec: m.exportSpec, run: m.runExport as Command["run"] };
  },
  list: async () => {
    const m = await import("./commands/list.ts");
    return { spec: m.listSpec, run: m.runList as Command["run"] };
  },
};

function modelHelp(): string {
  const lines = ["Model kinds and their parameters (pass as --name value):"];
  for (const r of Object.values(recommenders)) {
    lines.push(`  ${r.kind} — ${r.summary}`);
    for (const [name, p] of Object.entries(r.parameters)) {
      lines.push(
        `      --${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (${p.default}; ${p.min}–${p.max}) ${p.help}`,
      );
    }
  }
  return lines.join("\n");
}

async function usage(): Promise<string> {
  const specs = await Promise.all(Object.values(commands).map(async (load) => (await load()).spec));
  return [
    "Reco model training: npm run train -- <command> [options]",
    "",
    "Commands:",
    ...specs.map((spec) => `  ${spec.name.padEnd(10)} ${spec.summary}`),
    "",
    "`npm run train -- <command> --help` shows a command's options.",
    "Environment: DATABASE_URL (PostgreSQL; unset = embedded PGlite in $DATA_DIR/pg, which must not be open in another process), DATA_DIR (default .data); S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY (optional S3_REGION, S3_PREFIX): train uploads each version to that bucket and the version row points at it.",
    "",
  ].join("\n");
}

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  console: Console = processConsole,
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.out(await usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.err(
      `error: unknown command ${JSON.stringify(name)}; valid commands: ${Object.keys(commands).join(", ")}`,
    );
    return 2;
  }
  try {
    const command = await load();
    const config = parseEnv(
      z.object({
        DATABASE_URL: envFields.databaseUrl,
        DATA_DIR: envFields.dataDir,
        ...storageEnvFields,
      }),
      env,
    );
    const parsed = parseCommand(command.spec, rest);
    if (parsed.help) {
      console.out(renderHelp(command.spec, command.spec.takesHyperParameters ? modelHelp() : ""));
      return 0;
    }
    // Commands print one line on failure; the SDK's multi-line notice that its releases after
    // January 2027 need Node 22 would bury it (the project supports Node >= 20.19).
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const ctx: CommandContext = {
      console,
      dataDir: config.DATA_DIR,
      databaseUrl: config.DATABASE_URL,
      ...(config.S3_ENDPOINT || config.S3_BUCKET
        ? { storage: (await import("@reco/storage")).createObjectStorage(config, config.DATA_DIR) }
        : {}),
    };
    try {
      return await command.run(parsed as ParsedCommand<never>, ctx);
    } finally {
      await ctx.storage?.close();
    }
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    console.err(`error: ${message.split("\n")[0]}`);
    return error instanceof AppError && error.code === "BAD_REQUEST" ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
