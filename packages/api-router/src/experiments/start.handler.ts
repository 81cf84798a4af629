import type { TrpcContext } from "../context.ts";
import type { StartInput } from "./start.schema.ts";
import { experimentsOf } from "./service.ts";

/** Needs ≥ 2 variants, a primary metric and a free namespace range (BAD_REQUEST naming the field). */
export const startHandler = ({ ctx, input }: { ctx: TrpcContext; input: StartInput }) =>
  experimentsOf(ctx).start(input.key);
