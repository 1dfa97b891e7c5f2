import { InvalidArgumentError, NotFoundError, TOKEN_ROLES, validateDnsLabel, type Principal, type TokenRole } from '@longshore/domain';
import { Keys, type Redis } from '@longshore/store';
import { BOOTSTRAP_MIN_LENGTH, BOOTSTRAP_TOKEN_ID, hashSecret, newToken } from './token-secret.js';

/** A token as stored: what it may do, and its secret's hash. */
export interface TokenRecord extends Principal {
  readonly hash: string;
  readonly createdAt: number;
  /** Token id of the creator (`bootstrap` for the bootstrap token itself). */
  readonly createdBy: string;
}

/** A request to create a token, as validated at the edge. */
export interface NewToken {
  name: string;
  role: TokenRole;
  pools: string[];
}

const NAME = /^[\p{L}\p{N} ._@:/-]{1,64}$/u;

/** Checks a token request: a printable name, a role, and pools that fit the role. */
export function validateNewToken(t: NewToken): NewToken {
  if (!NAME.test(t.name)) throw new InvalidArgumentError('name', 'must be 1-64 letters, digits, spaces or . _ @ : / -');
  if (!TOKEN_ROLES.includes(t.role)) throw new InvalidArgumentError('role', `must be one of ${TOKEN_ROLES.join(', ')}`);
  if (t.pools.length > 64) throw new InvalidArgumentError('pools', `has ${t.pools.length} pools; at most 64`);
  t.pools.forEach((p, i) => validateDnsLabel(`pools[${i}]`, p));
  if (t.role === 'agent' && t.pools.length !== 1) throw new InvalidArgumentError('pools', 'an agent token serves exactly one pool: name it (--pool POOL)');
  if (t.role === 'admin' && t.pools.length > 0) throw new InvalidArgumentError('pools', 'an admin token cannot be limited to pools; use the submitter or reader role');
  return { ...t, pools: [...new Set(t.pools)] };
}

/**
 * Tokens in Redis, one hash field per token id. Revoking deletes the field, so every replica
 * stops accepting it as soon as its short cache entry expires.
 */
export class TokenStore {
  private readonly keys: Keys;
  constructor(
    private readonly redis: Redis,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
  }

  /** Creates a token; the bearer string is returned here and never again. */
  async create(req: NewToken, createdBy: string, now = Date.now()): Promise<{ record: TokenRecord; bearer: string }> {
    const t = validateNewToken(req);
    const { id, bearer, hash } = newToken();
    const record: TokenRecord = { tokenId: id, name: t.name, role: t.role, pools: t.pools, hash, createdAt: now, createdBy };
    await this.redis.hset(this.keys.tokens, id, JSON.stringify(record));
    return { record, bearer };
  }

  /**
   * Stores (or replaces) the bootstrap admin token from `LONGSHORE_BOOTSTRAP_TOKEN`, so a
   * deployment has its first admin without any other step.
   */
  async putBootstrap(secret: string, now = Date.now()): Promise<TokenRecord> {
    if (secret.length < BOOTSTRAP_MIN_LENGTH) {
      throw new InvalidArgumentError('LONGSHORE_BOOTSTRAP_TOKEN', `is ${secret.length} characters; use at least ${BOOTSTRAP_MIN_LENGTH} random ones (e.g. openssl rand -base64 32)`);
    }
    const record: TokenRecord = { tokenId: BOOTSTRAP_TOKEN_ID, name: 'bootstrap (LONGSHORE_BOOTSTRAP_TOKEN)', role: 'admin', pools: [], hash: hashSecret(secret), createdAt: now, createdBy: BOOTSTRAP_TOKEN_ID };
    await this.redis.hset(this.keys.tokens, BOOTSTRAP_TOKEN_ID, JSON.stringify(record));
    return record;
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const raw = await this.redis.hget(this.keys.tokens, id);
    return raw ? (JSON.parse(raw) as TokenRecord) : undefined;
  }

  async list(): Promise<TokenRecord[]> {
    const all = await this.redis.hvals(this.keys.tokens);
    return all.map((r) => JSON.parse(r) as TokenRecord).sort((a, b) => a.createdAt - b.createdAt || a.tokenId.localeCompare(b.tokenId));
  }

  /** Deletes a token; returns what it was. */
  async revoke(id: string): Promise<TokenRecord> {
    const rec = await this.get(id);
    if (!rec) {
      const known = (await this.list()).map((t) => t.tokenId);
      throw new NotFoundError(`token "${id}" does not exist (tokens: ${known.join(', ') || 'none'}; see longshore tokens ls)`);
    }
    await this.redis.hdel(this.keys.tokens, id);
    return rec;
  }
}
