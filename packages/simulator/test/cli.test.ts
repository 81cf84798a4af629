import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const cli = path.join(root, "packages/simulator/src/cli/simulate.ts");

function simulate(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: run.status, stderr: run.stderr, stdout: run.stdout };
}

const ok = ["--api", "http://127.0.0.1:9", "--key", "k"];

describe("simulate CLI: bad input exits 2 with a message naming the flag", () => {
  const cases: [string, string[], RegExp][] = [
    ["missing --api", ["--key", "k"], /^simulate: --api: required/],
    [
      "--api not a URL",
      ["--api", "localhost:4000", "--key", "k"],
      /--api: expected an http\(s\) URL/,
    ],
    ["missing key", ["--api", "http://127.0.0.1:9"], /^simulate: --key: required/],
    ["--rps not a number", [...ok, "--rps", "fast"], /^simulate: --rps: .*"fast"/],
    ["--rps zero", [...ok, "--rps", "0"], /^simulate: --rps: /],
    ["--users negative", [...ok, "--users=-3"], /^simulate: --users: .*"-3"/],
    ["--users fractional", [...ok, "--users", "2.5"], /^simulate: --users: /],
    ["--duration with a bad unit", [...ok, "--duration", "5d"], /^simulate: --duration: .*"5d"/],
    ["--seed not a number", [...ok, "--seed", "x"], /^simulate: --seed: /],
    ["--visits zero", [...ok, "--visits", "0"], /^simulate: --visits: /],
    ["--data without ratings.csv", [...ok, "--data", "/nonexistent"], /^simulate: --data: /],
    ["an unknown flag", [...ok, "--speed", "3"], /--speed/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const run = simulate(...args);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    });
  }

  it("an empty --key-file is refused, naming the flag", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sim-cli-")), "key");
    writeFileSync(file, "\n");
    const run = simulate("--api", "http://127.0.0.1:9", "--key-file", file);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^simulate: --key-file: .* is empty/);
  });
});
