export { ROLES, isRole, roleAllows, type Role } from "./roles.ts";
export { apiKeyFromHeaders, apiKeyPrefix, generateApiKey, hashApiKey } from "./api-key.ts";
export { ensureDevApiKey } from "./dev-key.ts";
export {
  ApiKeyStore,
  type Authenticator,
  type CreatedApiKey,
  type Principal,
} from "./key-store.ts";
