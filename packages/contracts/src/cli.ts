import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Command-line flags for a CLI entry point: `--help`/`-h` prints the usage and exits 0; an unknown
 * or malformed flag prints the problem and the usage to stderr and exits 2.
 */
export function parseCliFlags<O extends Options>(
  options: O,
  usage: string,
  args = process.argv.slice(2),
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return parsed.values as ReturnType<typeof parseArgs<{ options: O }>>["values"];
}
