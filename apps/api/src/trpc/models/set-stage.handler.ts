import type { TrpcContext } from "../context.ts";
import type { SetStageInput } from "./set-stage.schema.ts";
import { modelsOf } from "./service.ts";

/**
 * Stamps the new stage. Setting stable retires nothing: the stable version stamped last serves
 * (the serving resolver re-reads within its refresh interval).
 */
export const setStageHandler = ({ ctx, input }: { ctx: TrpcContext; input: SetStageInput }) =>
  modelsOf(ctx).setStage(input.name, input.version, input.stage);
