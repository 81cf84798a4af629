import type { TrpcContext } from "../context.ts";
import type { ListInput } from "./list.schema.ts";
import { rolloutsOf } from "./service.ts";

/** Rollouts newest first (at most 200), optionally of one status or model. */
export const listHandler = ({ ctx, input }: { ctx: TrpcContext; input: ListInput }) =>
  rolloutsOf(ctx).list(input ?? {});
