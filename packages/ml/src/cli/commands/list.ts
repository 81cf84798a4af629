import { z } from "zod";
import { listVersions } from "../../registry/artifact.ts";
import type { CommandSpec, ParsedCommand } from "../args.ts";
import { type CommandContext, registryDirOf } from "../context.ts";
import { formatNumber, table } from "../output.ts";

export const listSpec = {
  name: "list",
  summary: "List the model versions in the registry with their kind, creation time and NDCG@10.",
  usage: "npm run train -- list [--name NAME] [--registry DIR] [--json]",
  options: {
    name: { type: "string", value: "NAME", help: "only this model" },
    registry: {
      type: "string",
      value: "DIR",
      help: "registry directory (default $DATA_DIR/registry)",
    },
    json: { type: "boolean", help: "print JSON instead of a table" },
  },
  schema: z.object({
    name: z.string().optional(),
    registry: z.string().optional(),
    json: z.boolean().default(false),
  }),
} satisfies CommandSpec<z.ZodType>;

export async function runList(
  cmd: ParsedCommand<z.infer<typeof listSpec.schema>>,
  ctx: CommandContext,
): Promise<number> {
  const versions = await listVersions(registryDirOf(ctx, cmd.options.registry), cmd.options.name);
  if (cmd.options.json) {
    ctx.console.out(
      JSON.stringify(
        versions.map((v) => ({
          name: v.name,
          version: v.version,
          dir: v.dir,
          problem: v.problem,
          metadata: v.metadata,
        })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (versions.length === 0) {
    ctx.console.out("no model versions in the registry");
    return 0;
  }
  const rows = versions.map((v) => {
    const m = v.metadata;
    if (!m) return [v.name, v.version, "CORRUPT", v.problem ?? "", "", ""];
    const ndcg = m.metrics["ndcg@10"];
    return [
      v.name,
      v.version,
      m.algorithm,
      m.createdAt,
      `${m.shape.nUsers}×${m.shape.nItems}`,
      ndcg === undefined ? "" : formatNumber(ndcg),
    ];
  });
  ctx.console.out(
    table(["name", "version", "algorithm", "created", "users×items", "ndcg@10"], rows),
  );
  return 0;
}
