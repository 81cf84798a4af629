import type { TrpcContext } from "../context.ts";
import type { ListInput } from "./list.schema.ts";
import { experimentsOf } from "./service.ts";

export const listHandler = ({ ctx, input }: { ctx: TrpcContext; input: ListInput }) =>
  experimentsOf(ctx).list(input ?? {});
