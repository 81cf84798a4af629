import { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses environment variables with a zod object schema whose keys are the variable names.
 * Throws a ConfigError whose message is one line naming each bad variable. `env` is always the
 * caller's: `process.env` at a composition root (an app's `env.ts`, a CLI's entry), a literal in
 * tests; nothing here reads the process environment behind the caller's back.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  // An empty variable (`DATABASE_URL=`) means unset, as in most twelve-factor tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "?");
    const value = env[name];
    return `${name}=${value === undefined ? "(unset)" : JSON.stringify(withoutPassword(value))}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
}

/**
 * A value as it may be printed: the password of a URL's credentials (`scheme://user:password@host`)
 * replaced by `***`, so a mistyped DATABASE_URL does not put its password in a log line.
 */
export function withoutPassword(value: string): string {
  return value.replace(/(\/\/[^/?#@:\s]*:)[^/?#@\s]*@/g, "$1***@");
}

/** For a process entry point: parse or print one clear line and exit 1. */
export function loadEnvOrExit<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv,
): z.infer<S> {
  try {
    return parseEnv(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** Building blocks shared by the apps' env schemas. */
export const envFields = {
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .optional(),
  kafkaBrokers: z
    .string()
    .regex(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, "must be host:port[,host:port…]")
    .optional(),
  port: z.coerce.number().int().min(0).max(65535),
  dataDir: z.string().min(1).default(".data"),
  topicPrefix: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/, "letters, digits, dot, dash, underscore only")
    .default("reco"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};
