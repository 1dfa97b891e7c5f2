/** What a token may do; see the README's "Security" section. */
export const TOKEN_ROLES = ['admin', 'submitter', 'reader', 'agent'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/**
 * Who is calling, as proven by their bearer token. Handlers get it in their call context when
 * auth is on; with `LONGSHORE_AUTH=off` every call runs as {@link ANONYMOUS_ADMIN}.
 */
export interface Principal {
  /** The token's id (never its secret): the key for rate limits and audit lines. */
  readonly tokenId: string;
  readonly name: string;
  readonly role: TokenRole;
  /** Pools the token is limited to; empty = every pool (an agent token names exactly one). */
  readonly pools: readonly string[];
}

/** The caller when auth is off: may do anything. */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({ tokenId: 'anonymous', name: 'anonymous (auth off)', role: 'admin', pools: Object.freeze([]) as readonly string[] });
