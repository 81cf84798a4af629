import type { Principal } from "@reco/serving";
import type { ServiceContext } from "../init.ts";
import type { SetStageInput } from "./set-stage.schema.ts";

/**
 * Stamps the new stage through the model-version store, as the calling key (`key:<prefix>`) with
 * the engineer's reason. Setting stable retires nothing: the stable version stamped last serves
 * (the serving resolver re-reads within its refresh interval). Answers the version's summary.
 */
export async function setStageHandler({
  ctx,
  input,
}: {
  ctx: ServiceContext<"models"> & { principal: Principal };
  input: SetStageInput;
}) {
  const models = ctx.models;
  const { name, version } = input;
  await models.setStage({ name, version }, input.stage, {
    by: `key:${ctx.principal.prefix}`,
    reason: input.reason,
  });
  return models.get(name, version);
}
