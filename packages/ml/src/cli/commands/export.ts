import { cp, mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { BadInput } from "@reco/contracts";
import { z } from "zod";
import { openVersion } from "../../registry/artifact.ts";
import type { CommandSpec, ParsedCommand } from "../args.ts";
import { type CommandContext, registryDirOf } from "../context.ts";

export const exportSpec = {
  name: "export",
  summary:
    "Copy a registry version (model.onnx, metadata.json, id maps, MODEL_CARD.md) to a directory, after verifying its checksums.",
  usage: "npm run train -- export --name NAME --version V --out DIR [--registry DIR]",
  options: {
    name: { type: "string", value: "NAME", help: "model name" },
    version: { type: "string", value: "V", help: "version (v1, v2 …)" },
    out: { type: "string", value: "DIR", help: "destination directory (must not exist)" },
    registry: {
      type: "string",
      value: "DIR",
      help: "registry directory (default $DATA_DIR/registry)",
    },
  },
  schema: z.object({
    name: z.string({ error: "is required" }),
    version: z.string({ error: "is required" }),
    out: z.string({ error: "is required" }),
    registry: z.string().optional(),
  }),
  examples: ["npm run train -- export --name movies-ials --version v3 --out ./dist/movies-ials"],
} satisfies CommandSpec<z.ZodType>;

export async function runExport(
  cmd: ParsedCommand<z.infer<typeof exportSpec.schema>>,
  ctx: CommandContext,
): Promise<number> {
  const { name, version, out } = cmd.options;
  const artifact = await openVersion(registryDirOf(ctx, cmd.options.registry), name, version); // verifies checksums
  const target = path.resolve(out);
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  )
    throw new BadInput(`--out ${out} already exists`);
  // Copy beside the target, then rename: the destination is complete or absent.
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await cp(artifact.dir, tmp, { recursive: true, errorOnExist: true });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  ctx.console.out(
    `exported ${name} ${version} (${artifact.metadata.algorithm}, checksums verified) to ${target}`,
  );
  return 0;
}
