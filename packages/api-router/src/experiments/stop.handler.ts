import type { TrpcContext } from "../context.ts";
import type { StopInput } from "./stop.schema.ts";
import { experimentsOf } from "./service.ts";

export const stopHandler = ({ ctx, input }: { ctx: TrpcContext; input: StopInput }) =>
  experimentsOf(ctx).stop(input.key);
