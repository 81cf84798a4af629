import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { infrastructureTools, root } from "./tools.ts";

type Env = Record<string, string>;
type Schema = z.ZodObject<z.ZodRawShape>;

/**
 * The apps' env schemas. The apps export no `./env` entry (their package.json `exports`), so this
 * test loads the two files by path: it checks deployment files against exactly what main.ts parses.
 */
async function appSchema(file: string, name: string): Promise<Schema> {
  const module = (await import(pathToFileURL(path.join(root, file)).href)) as Record<
    string,
    Schema
  >;
  const schema = module[name];
  if (!schema?.shape) throw new Error(`${file} exports no zod object ${name}`);
  return schema;
}

/** Optional variables a deployment leaves unset on purpose, and why. */
const UNSET_ON_PURPOSE: Record<string, string> = {
  DEV_API_KEY: "embedded mode only (npm start's launcher)",
  SNAPSHOT_DIR: "defaults to <DATA_DIR>/snapshots on the shared volume",
  RETRAIN_MODEL: "defaults to the stable version's kind",
  RETRAIN_MODEL_NAME: "defaults to the stable version's name",
};

/** Variables whose defaults are for a laptop and wrong in a container. */
const MUST_OVERRIDE: Record<string, string[]> = {
  api: ["HOST"], // 127.0.0.1 would refuse the other containers and the kubelet's probes
  "stream-worker": [],
  web: ["API_URL"], // 127.0.0.1:4000 is not where the api is
};

/**
 * What a deployment must set for an app: every variable its schema requires or leaves undefined
 * without a default (the real-service URLs, object storage), except the ones unset on purpose,
 * plus those whose laptop default is wrong in a container.
 */
function requiredVariables(schema: Schema, app: string): string[] {
  const required = Object.entries(schema.shape)
    .filter(([name, field]) => {
      if (name in UNSET_ON_PURPOSE) return false;
      const parsed = (field as z.ZodType).safeParse(undefined);
      return !parsed.success || parsed.data === undefined;
    })
    .map(([name]) => name);
  return [...new Set([...required, ...MUST_OVERRIDE[app]!])].sort();
}

function parseEnvFile(text: string, file: string): Env {
  const env: Env = {};
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`${file}:${index + 1}: not NAME=value: ${line}`);
    env[match[1]!] = match[2]!;
  });
  return env;
}

/** Each compose service's environment, from the env_file lists (compose.yaml keeps one per service). */
async function composeEnvironments(): Promise<Record<string, Env>> {
  const composeFile = path.join(root, "deploy/compose.yaml");
  const lines = (await readFile(composeFile, "utf8")).split("\n");
  const services: Record<string, Env> = {};
  let inServices = false;
  let service: string | undefined;
  for (const line of lines) {
    if (/^\S/.test(line)) inServices = line.startsWith("services:");
    const name = /^ {2}([\w-]+):\s*$/.exec(line);
    if (inServices && name) service = name[1];
    const files = /^ {4}env_file:\s*\[(.*)\]\s*$/.exec(line);
    if (inServices && service && files) {
      const env: Env = {};
      for (const file of files[1]!.split(",").map((f) => f.trim())) {
        const full = path.join(root, "deploy", file);
        Object.assign(env, parseEnvFile(await readFile(full, "utf8"), file));
      }
      services[service] = env;
    }
  }
  return services;
}

/** Each Kubernetes workload's environment (plain and from the secret) for the example environment. */
async function kubernetesEnvironments(): Promise<Record<string, Env>> {
  const tools = infrastructureTools();
  const dir = await mkdtemp(path.join(os.tmpdir(), "reco-tofu-env-"));
  try {
    await cp(path.join(root, "terraform"), dir, {
      recursive: true,
      filter: (source) => !source.includes(`${path.sep}.terraform`),
    });
    const env = { ...process.env, TF_CLI_CONFIG_FILE: tools.tofuConfig };
    await promisify(execFile)(tools.tofu, ["init", "-backend=false", "-input=false", "-no-color"], {
      cwd: dir,
      env,
    });
    // nonsensitive(): the example's secrets are placeholders, and console hides sensitive values.
    const expression =
      "nonsensitive(jsonencode({ for name, app in local.apps : name => merge(app.env, app.secrets ? local.secret_env : {}) }))";
    const run = promisify(execFile)(
      tools.tofu,
      ["console", "-no-color", "-var-file=environments/example.tfvars"],
      { cwd: dir, env },
    );
    run.child.stdin!.end(`${expression}\n`);
    const { stdout } = await run;
    // console prints the JSON string as an HCL string literal: a JSON string holding the JSON.
    return JSON.parse(JSON.parse(stdout.trim())) as Record<string, Env>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let schemas: Record<"api" | "stream-worker", Schema>;
let compose: Record<string, Env>;
let kubernetes: Record<string, Env>;

beforeAll(async () => {
  schemas = {
    api: await appSchema("apps/api/src/env.ts", "apiEnvSchema"),
    "stream-worker": await appSchema("apps/stream-worker/src/env.ts", "workerEnvSchema"),
  };
  compose = await composeEnvironments();
  kubernetes = await kubernetesEnvironments();
}, 120_000);

describe("the deployments give every app what its zod env schema requires", () => {
  it("the required sets include the real-service and object-storage settings", () => {
    expect(requiredVariables(schemas.api, "api")).toEqual(
      expect.arrayContaining([
        "DATABASE_URL",
        "REDIS_URL",
        "KAFKA_BROKERS",
        "S3_ENDPOINT",
        "S3_BUCKET",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "HOST",
      ]),
    );
    expect(requiredVariables(schemas["stream-worker"], "stream-worker")).toEqual(
      expect.arrayContaining(["DATABASE_URL", "REDIS_URL", "KAFKA_BROKERS"]),
    );
  });

  for (const target of ["kubernetes", "compose"] as const) {
    for (const app of ["api", "stream-worker"] as const) {
      it(`${target}: ${app} sets every required variable, and the values parse`, () => {
        const env = (target === "kubernetes" ? kubernetes : compose)[app];
        expect(env, `${target} has no ${app}`).toBeDefined();
        const missing = requiredVariables(schemas[app], app).filter((name) => !(name in env!));
        expect(missing).toEqual([]);
        const parsed = schemas[app].safeParse(env);
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      });
    }

    it(`${target}: web is given API_URL pointing at the api service, not the laptop default`, () => {
      const env = (target === "kubernetes" ? kubernetes : compose).web;
      expect(env?.API_URL).toMatch(/^http:\/\/(reco-)?api:4000$/);
    });
  }

  it("a variable the api requires but a deployment lacks is reported (the check has teeth)", () => {
    const withoutBucket = { ...kubernetes.api };
    delete withoutBucket.S3_BUCKET;
    expect(
      requiredVariables(schemas.api, "api").filter((name) => !(name in withoutBucket)),
    ).toEqual(["S3_BUCKET"]);
  });
});
