/**
 * Command-line parsing: node:util parseArgs for the command's own options (unknown ones refused
 * with the valid list), zod for their values. Commands that fit a model also accept that model's
 * hyper-parameters as options (`--factors 64`, `--half-life-days=7`); those are collected here and
 * validated by the model itself, which names its valid parameters.
 */
import { parseArgs } from "node:util";
import { BadInput } from "@reco/contracts";
import type { z } from "zod";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** shown by --help */
  help: string;
  /** placeholder in --help, e.g. FILE */
  value?: string;
}

export interface CommandSpec<S extends z.ZodType> {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** validates and converts the parsed option values */
  schema: S;
  /** whether unknown --name value pairs are model hyper-parameters */
  takesHyperParameters?: boolean;
  examples?: string[];
}

export interface ParsedCommand<T> {
  options: T;
  /** model hyper-parameters by camelCase name, still strings (the model validates them) */
  hyperParameters: Record<string, string>;
  help: boolean;
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function splitHyperParameters(
  argv: string[],
  spec: CommandSpec<z.ZodType>,
): { own: string[]; hyper: Record<string, string> } {
  const own: string[] = [];
  const hyper: Record<string, string> = {};
  const known = (name: string) => name in spec.options || name === "help";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match || known(match[1]!) || !spec.takesHyperParameters) {
      own.push(arg);
      if (match && !match[2] && spec.options[match[1]!]?.type === "string" && i + 1 < argv.length)
        own.push(argv[++i]!);
      continue;
    }
    const name = camel(match[1]!);
    const value = match[2] ?? argv[i + 1];
    if (value === undefined || (match[2] === undefined && value.startsWith("--"))) {
      throw new BadInput(`--${match[1]} needs a value`);
    }
    if (match[2] === undefined) i++;
    hyper[name] = value;
  }
  return { own, hyper };
}

export function parseCommand<S extends z.ZodType>(
  spec: CommandSpec<S>,
  argv: string[],
): ParsedCommand<z.infer<S>> {
  const { own, hyper } = splitHyperParameters(argv, spec);
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs({
      args: own,
      options: {
        ...Object.fromEntries(
          Object.entries(spec.options).map(([name, o]) => [
            name,
            { type: o.type, ...(o.short ? { short: o.short } : {}) },
          ]),
        ),
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    });
    values = parsed.values;
  } catch (error) {
    const valid = Object.keys(spec.options)
      .map((o) => `--${o}`)
      .join(", ");
    const message = (error as Error).message
      .split("\n")[0]!
      .replace(/\. To specify a positional.*$/, "");
    throw new BadInput(`${spec.name}: ${message} (valid options: ${valid}, --help)`);
  }
  if (values.help) return { options: undefined as z.infer<S>, hyperParameters: hyper, help: true };
  const result = spec.schema.safeParse(
    Object.fromEntries(Object.entries(values).map(([k, v]) => [camel(k), v])),
  );
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const option = issue.path.length
      ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      : "";
    throw new BadInput(`${spec.name}: ${option ? `${option}: ` : ""}${issue.message}`);
  }
  return { options: result.data, hyperParameters: hyper, help: false };
}

export function renderHelp(spec: CommandSpec<z.ZodType>, extra = ""): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    return `  ${flag.padEnd(30)} ${o.help}`;
  });
  return [
    `${spec.summary}`,
    "",
    `Usage: ${spec.usage}`,
    "",
    "Options:",
    ...rows,
    `  ${"-h, --help".padEnd(30)} show this help`,
    ...(extra ? ["", extra] : []),
    ...(spec.examples?.length ? ["", "Examples:", ...spec.examples.map((e) => `  ${e}`)] : []),
    "",
  ].join("\n");
}
