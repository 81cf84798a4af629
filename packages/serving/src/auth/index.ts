export { ROLES, isRole, roleAllows, type Role } from "./roles.ts";
export { apiKeyFromHeaders, apiKeyPrefix, generateApiKey, hashApiKey } from "./api-key.ts";
export { ensureDevApiKey } from "./dev-key.ts";
export {
  ApiKeyStore,
  DEFAULT_AUTH_CACHE_MS,
  DEFAULT_AUTH_LOOKUP_TIMEOUT_MS,
  DEFAULT_AUTH_MAX_CACHED_KEYS,
  DEFAULT_AUTH_STALE_MS,
  type ApiKeyStoreOptions,
  type Authenticator,
  type CreatedApiKey,
  type Principal,
} from "./key-store.ts";
export {
  hashPassword,
  verifyPassword,
  passwordProblem,
  MIN_PASSWORD_LENGTH,
  DEFAULT_SCRYPT,
} from "./password.ts";
export {
  AccountStore,
  ACCOUNT_ROLES,
  DEFAULT_SESSION_ABSOLUTE_MS,
  DEFAULT_SESSION_IDLE_MS,
  InvalidAccountInput,
  TooManySignInFailures,
  hashSessionToken,
  type AccountRole,
  type AccountStoreOptions,
  type AccountSummary,
  type SessionPrincipal,
  type StartedSession,
} from "./account-store.ts";
export { ensureDemoAccounts, demoAccountEmail, type DemoAccount } from "./demo-accounts.ts";
