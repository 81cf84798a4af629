import { NotFound } from "@reco/contracts";
import type { z } from "zod";
import type { TrpcContext } from "../context.ts";
import type { createApiKeyInput, revokeApiKeyInput } from "./create.schema.ts";

export const listApiKeys = ({ ctx }: { ctx: TrpcContext }) => ctx.services.apiKeys.list();

/** The full key is in this answer only; it is stored hashed. */
export const createApiKey = ({
  ctx,
  input,
}: {
  ctx: TrpcContext;
  input: z.infer<typeof createApiKeyInput>;
}) => ctx.services.apiKeys.create(input);

export async function revokeApiKey({
  ctx,
  input,
}: {
  ctx: TrpcContext;
  input: z.infer<typeof revokeApiKeyInput>;
}) {
  if (!(await ctx.services.apiKeys.revoke(input.prefix)))
    throw new NotFound("active API key", input.prefix);
  return { revoked: input.prefix };
}
