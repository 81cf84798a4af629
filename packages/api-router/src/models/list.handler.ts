import type { TrpcContext } from "../context.ts";
import type { ListInput } from "./list.schema.ts";
import { modelsOf } from "./service.ts";

/** Versions newest first, with offline metrics and the training run that produced them. */
export const listHandler = ({ ctx, input }: { ctx: TrpcContext; input: ListInput }) =>
  modelsOf(ctx).list(input ?? {});
