import type { TrpcContext } from "../context.ts";
import type { CreateInput } from "./create.schema.ts";
import { experimentsOf } from "./service.ts";

export const createHandler = ({ ctx, input }: { ctx: TrpcContext; input: CreateInput }) =>
  experimentsOf(ctx).create(input);
