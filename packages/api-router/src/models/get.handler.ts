import type { TrpcContext } from "../context.ts";
import type { GetInput } from "./get.schema.ts";
import { modelsOf, readRegistryEntry } from "./service.ts";

/** The version row plus its registry metadata and MODEL_CARD.md. */
export async function getHandler({ ctx, input }: { ctx: TrpcContext; input: GetInput }) {
  const version = await modelsOf(ctx).get(input.name, input.version);
  const registry = await readRegistryEntry(version.artifactPath, version.name, version.version);
  return { ...version, registry };
}
