/**
 * `@longshore/auth`: bearer tokens with roles. Tokens are stored hashed in Redis
 * ({@link TokenStore}); servers check each call's token and role with {@link createAuthenticator};
 * handlers check pool limits with {@link checkPool} / {@link mayUsePool}.
 */
export { TokenStore, validateNewToken } from './token-store.js';
export type { TokenRecord, NewToken } from './token-store.js';
export { createAuthenticator } from './authenticator.js';
export type { AuthenticatorOptions, TokenLookup } from './authenticator.js';
export { METHOD_ROLES, neededRole, checkRole, checkPool, mayUsePool, describeToken } from './policy.js';
export type { Need } from './policy.js';
export { BOOTSTRAP_TOKEN_ID, BOOTSTRAP_MIN_LENGTH, parseBearer } from './token-secret.js';
export { createSecuredServer } from './secured-server.js';
