import type { TrpcContext } from "../context.ts";
import type { GetInput } from "./get.schema.ts";
import { experimentsOf } from "./service.ts";

export const getHandler = ({ ctx, input }: { ctx: TrpcContext; input: GetInput }) =>
  experimentsOf(ctx).get(input.key);
