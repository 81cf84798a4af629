import type { ServiceContext } from "../init.ts";
import type { EditInput } from "./edit.schema.ts";

export const editHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: EditInput;
}) => ctx.experiments.edit(input.key, input.patch as Record<string, unknown>);
