import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { copyCheckout } from "./product.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A small git checkout with one file of each kind copyCheckout must tell apart. */
function fixtureCheckout(postinstall = "writeFileSync('postinstall-ran', 'yes');"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "testkit-checkout-"));
  made.push(dir);
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  write(".gitignore", "node_modules\n.data\nignored.txt\n");
  write("tracked.txt", "committed\n");
  write("deleted.txt", "committed, then deleted\n");
  write("packages/a/index.ts", "export {};\n");
  write("scripts/postinstall.mjs", `import { writeFileSync } from "node:fs";\n${postinstall}\n`);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "fixture");
  rmSync(path.join(dir, "deleted.txt"));
  write("tracked.txt", "edited in the working tree\n");
  write("untracked.txt", "new, not ignored\n");
  write("ignored.txt", "ignored\n");
  write(".data/state", "a data directory\n");
  write("node_modules/dep/index.js", "module.exports = 1;\n");
  write("packages/a/node_modules/nested/index.js", "module.exports = 2;\n");
  return dir;
}

describe("copyCheckout", () => {
  it("copies tracked and new unignored files as the working tree has them, hard-links node_modules, runs the postinstall", () => {
    const from = fixtureCheckout();
    const copy = copyCheckout({ from, prefix: "testkit-copy-" });
    made.push(copy);
    const read = (file: string) => readFileSync(path.join(copy, file), "utf8");
    expect(read("tracked.txt")).toBe("edited in the working tree\n");
    expect(read("untracked.txt")).toBe("new, not ignored\n");
    expect(read("packages/a/index.ts")).toBe("export {};\n");
    expect(existsSync(path.join(copy, "deleted.txt"))).toBe(false);
    expect(existsSync(path.join(copy, "ignored.txt"))).toBe(false);
    expect(existsSync(path.join(copy, ".data"))).toBe(false);
    expect(existsSync(path.join(copy, ".git"))).toBe(false);
    for (const file of ["node_modules/dep/index.js", "packages/a/node_modules/nested/index.js"]) {
      // the same file (inode), not a copy
      expect(statSync(path.join(copy, file)).ino).toBe(statSync(path.join(from, file)).ino);
    }
    expect(read("postinstall-ran")).toBe("yes");
    expect(existsSync(path.join(from, "postinstall-ran"))).toBe(false);
  });

  it("a failing postinstall is an error naming it, and leaves no copy behind", () => {
    const from = fixtureCheckout("process.stderr.write('no prisma here'); process.exit(3);");
    const before = new Set(
      execFileSync("ls", [os.tmpdir()], { encoding: "utf8" })
        .split("\n")
        .filter((name) => name.startsWith("testkit-failing-")),
    );
    expect(() => copyCheckout({ from, prefix: "testkit-failing-" })).toThrow(
      /postinstall in the copy failed: no prisma here/,
    );
    const after = execFileSync("ls", [os.tmpdir()], { encoding: "utf8" })
      .split("\n")
      .filter((name) => name.startsWith("testkit-failing-") && !before.has(name));
    expect(after).toEqual([]);
  });
});
