import type { ServiceContext } from "../init.ts";
import type { CreateInput } from "./create.schema.ts";

export const createHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: CreateInput;
}) => ctx.experiments.create(input);
