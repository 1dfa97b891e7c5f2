import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * One-time login codes (like Jupyter's token link, but spent on first use): `longshore up`
 * prints `http://…/#login=CODE`; the page trades the code for the local admin token once, keeps
 * the token in the tab's sessionStorage and drops the code from the address bar. The code
 * travels in the URL fragment, which browsers never send to servers or in Referer headers.
 */
export class LoginLinks {
  private readonly codes = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly ttlMs = 24 * 3_600_000) {}

  /** A fresh code that signs a browser in with `token` once, within the ttl. */
  issue(token: string, now = Date.now()): string {
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, { token, expiresAt: now + this.ttlMs });
    return code;
  }

  /** The token for `code`, spending the code; undefined when it is unknown, spent or expired. */
  redeem(code: string, now = Date.now()): string | undefined {
    for (const [known, entry] of this.codes) {
      const a = Buffer.from(known);
      const b = Buffer.from(code);
      if (a.length === b.length && timingSafeEqual(a, b)) {
        this.codes.delete(known);
        return entry.expiresAt > now ? entry.token : undefined;
      }
    }
    return undefined;
  }
}
