import { adminProcedure, createTRPCRouter } from "../init.ts";
import { createApiKeyInput, revokeApiKeyInput } from "./create.schema.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "./handlers.ts";

export const apiKeysRouter = createTRPCRouter({
  list: adminProcedure.query(listApiKeys),
  create: adminProcedure.input(createApiKeyInput).mutation(createApiKey),
  revoke: adminProcedure.input(revokeApiKeyInput).mutation(revokeApiKey),
});
