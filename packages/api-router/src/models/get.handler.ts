import type { TrpcContext } from "../context.ts";
import type { ServiceContext } from "../init.ts";
import type { GetInput } from "./get.schema.ts";
import { readRegistryEntry } from "./service.ts";

/** The version row plus its registry metadata and MODEL_CARD.md. */
export async function getHandler({
  ctx,
  input,
}: {
  ctx: ServiceContext<"models"> & Pick<TrpcContext, "services">;
  input: GetInput;
}) {
  const version = await ctx.models.get(input.name, input.version);
  const registry = await readRegistryEntry(version, ctx.services.artifacts);
  return { ...version, registry };
}
