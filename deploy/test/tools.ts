import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Tools {
  tofu: string;
  promtool: string;
  /** The CLI config that installs providers from the local mirror only. */
  tofuConfig: string;
}

/**
 * Where scripts/tools.sh put OpenTofu, the provider mirror and promtool. They are built once per
 * machine (npm test runs the script first); a missing one fails with the command that builds it.
 */
export function infrastructureTools(): Tools {
  const exports = execFileSync("bash", [path.join(root, "scripts/tools.sh"), "env"], {
    encoding: "utf8",
  });
  const value = (name: string) => {
    const match = new RegExp(`^export ${name}='(.*)'$`, "m").exec(exports);
    if (!match) throw new Error(`scripts/tools.sh env printed no ${name}`);
    return match[1]!;
  };
  const tools = {
    tofu: value("TOFU"),
    promtool: value("PROMTOOL"),
    tofuConfig: value("TF_CLI_CONFIG_FILE"),
  };
  for (const [name, file] of Object.entries(tools)) {
    if (!existsSync(file)) {
      throw new Error(
        `${name} is missing at ${file}: build the tools with \`bash scripts/tools.sh\``,
      );
    }
  }
  return tools;
}
