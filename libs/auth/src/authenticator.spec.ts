import { Code, type LongshoreError } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticator.js';
import { hashSecret, newToken, parseBearer } from './token-secret.js';
import type { TokenRecord } from './token-store.js';

function setup() {
  const records = new Map<string, TokenRecord>();
  let lookups = 0;
  let clock = 1_000;
  const add = (role: TokenRecord['role'], pools: string[] = []) => {
    const t = newToken();
    records.set(t.id, { tokenId: t.id, name: `${role}-token`, role, pools, hash: t.hash, createdAt: 0, createdBy: 'bootstrap' });
    return t;
  };
  const authorize = createAuthenticator({
    tokens: {
      get: async (id) => {
        lookups++;
        return records.get(id);
      },
    },
    cacheMs: 2000,
    now: () => clock,
  });
  return { records, add, authorize, lookups: () => lookups, advance: (ms: number) => (clock += ms) };
}

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as LongshoreError).code;
  }
}

const SUBMIT = 'longshore.v1.DispatcherService/SubmitJob';

describe('createAuthenticator', () => {
  it('accepts a valid bearer token and returns its principal, never its hash', async () => {
    const s = setup();
    const t = s.add('submitter', ['a']);
    const p = await s.authorize(`Bearer ${t.bearer}`, SUBMIT);
    expect(p).toEqual({ tokenId: t.id, name: 'submitter-token', role: 'submitter', pools: ['a'] });
  });

  it('refuses missing, malformed, unknown and wrong-secret tokens as UNAUTHENTICATED', async () => {
    const s = setup();
    const t = s.add('admin');
    const wrongSecret = `lst_${t.id}_${'x'.repeat(43)}`;
    for (const header of [undefined, '', 'Basic abc', `Bearer ${wrongSecret}`, 'Bearer lst_zzzzzzzzzzzzzzzz_' + 'y'.repeat(43), 'Bearer short']) {
      expect(await codeOf(s.authorize(header, SUBMIT))).toBe(Code.Unauthenticated);
    }
  });

  it('refuses a valid token of the wrong role as PERMISSION_DENIED', async () => {
    const s = setup();
    const t = s.add('reader');
    expect(await codeOf(s.authorize(`Bearer ${t.bearer}`, SUBMIT))).toBe(Code.PermissionDenied);
  });

  it('asks the store once per token per cache period, and sees a revocation after it', async () => {
    const s = setup();
    const t = s.add('admin');
    for (let i = 0; i < 5; i++) await s.authorize(`Bearer ${t.bearer}`, SUBMIT);
    expect(s.lookups()).toBe(1);
    s.records.delete(t.id);
    expect(await codeOf(s.authorize(`Bearer ${t.bearer}`, SUBMIT))).toBeUndefined(); // still cached
    s.advance(2001);
    expect(await codeOf(s.authorize(`Bearer ${t.bearer}`, SUBMIT))).toBe(Code.Unauthenticated);
  });
});

describe('token secrets', () => {
  it('splits lst_ tokens into id and secret, and takes anything else as the bootstrap token', () => {
    const t = newToken();
    expect(parseBearer(t.bearer).id).toBe(t.id);
    expect(hashSecret(parseBearer(t.bearer).secret)).toBe(t.hash);
    expect(parseBearer('some-long-operator-chosen-secret')).toEqual({ id: 'bootstrap', secret: 'some-long-operator-chosen-secret' });
  });

  it('makes distinct tokens', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newToken().id));
    expect(ids.size).toBe(200);
  });
});
