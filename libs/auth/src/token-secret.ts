import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A bearer token reads `lst_<id>_<secret>`: the id finds the record, the secret proves it. Only
 * the secret's SHA-256 is stored. Secrets are 32 random bytes, so a fast hash is enough: there
 * is nothing to brute-force the way a password would be.
 */
const TOKEN = /^lst_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

/** The id of the token given by `LONGSHORE_BOOTSTRAP_TOKEN`, which may be any long random string. */
export const BOOTSTRAP_TOKEN_ID = 'bootstrap';
/** Shortest `LONGSHORE_BOOTSTRAP_TOKEN` accepted. */
export const BOOTSTRAP_MIN_LENGTH = 32;

/** A fresh token: its id, the bearer string to hand out once, and the hash to store. */
export function newToken(): { id: string; bearer: string; hash: string } {
  const id = randomBytes(10).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 16).padEnd(16, '0');
  const secret = randomBytes(32).toString('base64url');
  return { id, bearer: `lst_${id}_${secret}`, hash: hashSecret(secret) };
}

/** Splits a presented bearer string; anything not in the `lst_` form is taken as the bootstrap token. */
export function parseBearer(bearer: string): { id: string; secret: string } {
  const m = TOKEN.exec(bearer);
  return m ? { id: m[1]!, secret: m[2]! } : { id: BOOTSTRAP_TOKEN_ID, secret: bearer };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
