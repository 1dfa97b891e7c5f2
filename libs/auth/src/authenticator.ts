import { UnauthenticatedError, type Principal } from '@longshore/domain';
import { checkRole } from './policy.js';
import { hashSecret, parseBearer, secretMatches } from './token-secret.js';
import type { TokenRecord } from './token-store.js';

/** Where the authenticator finds tokens: the `TokenStore`, or a fake in unit tests. */
export interface TokenLookup {
  get(id: string): Promise<TokenRecord | undefined>;
}

/** Turns a call's `authorization` metadata and method into the caller, or throws (the rpc server's `Authorize`). */
type Authorize = (authorization: string | undefined, method: string) => Promise<Principal>;

export interface AuthenticatorOptions {
  tokens: TokenLookup;
  /**
   * How long a checked token is trusted without asking Redis again; this bounds how late a
   * revocation takes effect on a replica. Default 2000.
   */
  cacheMs?: number;
  now?: () => number;
}

const MAX_CACHED = 10_000;
const HOW = 'send it as gRPC metadata "authorization: Bearer TOKEN" (the CLI and SDK read LONGSHORE_TOKEN, or the credentials file that longshore up writes)';

/**
 * Checks bearer tokens against the token store and the method's role. Valid and invalid
 * tokens are both remembered for `cacheMs`, so a flood of calls costs Redis one lookup per
 * token per period.
 */
export function createAuthenticator(opts: AuthenticatorOptions): Authorize {
  const cacheMs = opts.cacheMs ?? 2000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { principal: Principal | undefined; until: number }>();

  const lookup = async (bearer: string): Promise<Principal | undefined> => {
    const key = hashSecret(bearer);
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.principal;
    const { id, secret } = parseBearer(bearer);
    const rec = await opts.tokens.get(id);
    const principal = rec && secretMatches(secret, rec.hash) ? { tokenId: rec.tokenId, name: rec.name, role: rec.role, pools: rec.pools } : undefined;
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, { principal, until: now() + cacheMs });
    return principal;
  };

  return async (authorization, method) => {
    if (authorization === undefined || authorization === '') {
      throw new UnauthenticatedError(`this call needs a token: ${HOW}`);
    }
    const m = /^Bearer\s+(\S{1,512})$/i.exec(authorization);
    if (!m) throw new UnauthenticatedError(`the authorization metadata must read "Bearer TOKEN": ${HOW}`);
    const principal = await lookup(m[1]!);
    if (!principal) throw new UnauthenticatedError('the token is not valid (unknown, revoked, or mistyped): ask an admin for a new one (longshore tokens create)');
    checkRole(principal, method);
    return principal;
  };
}
