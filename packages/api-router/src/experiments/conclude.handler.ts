import type { TrpcContext } from "../context.ts";
import type { ConcludeInput } from "./conclude.schema.ts";
import { experimentsOf } from "./service.ts";

export const concludeHandler = ({ ctx, input }: { ctx: TrpcContext; input: ConcludeInput }) =>
  experimentsOf(ctx).conclude(input.key, {
    decision: input.decision,
    ...(input.decisionReason === undefined ? {} : { decisionReason: input.decisionReason }),
  });
