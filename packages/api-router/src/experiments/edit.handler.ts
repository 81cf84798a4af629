import type { TrpcContext } from "../context.ts";
import type { EditInput } from "./edit.schema.ts";
import { experimentsOf } from "./service.ts";

export const editHandler = ({ ctx, input }: { ctx: TrpcContext; input: EditInput }) =>
  experimentsOf(ctx).edit(input.key, input.patch as Record<string, unknown>);
