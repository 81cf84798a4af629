import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infrastructureTools, root, type Tools } from "./tools.ts";

const run = promisify(execFile);
const terraformDir = path.join(root, "terraform");

let tools: Tools;
let workDir: string;

/** tofu in a copy of terraform/ (init writes .terraform and a lock file; the repo stays clean). */
async function tofu(args: string[], cwd = workDir) {
  return run(tools.tofu, [...args, "-no-color"], {
    cwd,
    env: { ...process.env, TF_CLI_CONFIG_FILE: tools.tofuConfig, TF_IN_AUTOMATION: "1" },
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`tofu ${args.join(" ")} failed:\n${error.stderr ?? ""}${error.stdout ?? ""}`);
  });
}

beforeAll(async () => {
  tools = infrastructureTools();
  workDir = await mkdtemp(path.join(os.tmpdir(), "reco-tofu-"));
  await cp(terraformDir, workDir, {
    recursive: true,
    filter: (source) => !/[\\/]\.terraform/.test(path.relative(terraformDir, source)),
  });
  await tofu(["init", "-backend=false", "-input=false"]);
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("terraform/ with OpenTofu and the hashicorp/kubernetes provider from the local mirror", () => {
  it("installs the provider from the mirror", async () => {
    const providers = await readdir(
      path.join(workDir, ".terraform/providers/registry.opentofu.org/hashicorp/kubernetes"),
    );
    expect(providers).toEqual(["1.13.4"]);
  });

  it("tofu validate passes", async () => {
    const { stdout } = await tofu(["validate"]);
    expect(stdout).toContain("Success! The configuration is valid.");
  });

  it("tofu validate catches a misspelt attribute, so the check above has teeth", async () => {
    const broken = await mkdtemp(path.join(os.tmpdir(), "reco-tofu-broken-"));
    try {
      await cp(workDir, broken, { recursive: true });
      const main = await readFile(path.join(broken, "main.tf"), "utf8");
      await writeFile(
        path.join(broken, "main.tf"),
        main.replace("termination_grace_period_seconds", "termination_grace_seconds"),
      );
      await expect(tofu(["validate"], broken)).rejects.toThrow(/termination_grace_seconds/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it("tofu fmt -check finds every file formatted", async () => {
    // -recursive covers environments/*.tfvars; a non-zero exit lists the files to format.
    await tofu(["fmt", "-check", "-recursive", terraformDir], root);
  });
});
