import { create } from '@bufbuild/protobuf';
import { TokenRole, TokenSchema } from '@longshore/client';
import { describe, expect, it } from 'vitest';
import { FakeClient, runWith } from './test-helpers.js';

describe('longshore tokens', () => {
  it('create prints only the secret on stdout, so it can be captured, and the id on stderr', async () => {
    const client = new FakeClient();
    const r = await runWith(client, ['tokens', 'create', '--role', 'submitter', '--name', 'ci', '--pool', 'a', '--pool', 'b']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lst_\S+\n$/);
    expect(r.stderr).toMatch(/created token tok\d+ \("ci"\); the secret above is shown only this once/);
    expect(client.calls[0]).toEqual({ method: 'createToken', request: { role: TokenRole.SUBMITTER, name: 'ci', pools: ['a', 'b'] } });
  });

  it('refuses an unknown role before calling the cluster', async () => {
    const client = new FakeClient();
    const r = await runWith(client, ['tokens', 'create', '--role', 'root', '--name', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role must be one of admin, submitter, reader, agent/);
    expect(client.calls).toEqual([]);
  });

  it('ls shows ids, names, roles and pools', async () => {
    const client = new FakeClient();
    client.tokenList = [create(TokenSchema, { id: 'abc', name: 'ci', role: TokenRole.SUBMITTER, pools: ['a'] }), create(TokenSchema, { id: 'def', name: 'ops', role: TokenRole.ADMIN })];
    const r = await runWith(client, ['tokens', 'ls']);
    expect(r.stdout).toMatch(/abc\s+ci\s+submitter\s+a/);
    expect(r.stdout).toMatch(/def\s+ops\s+admin\s+\(all\)/);
  });

  it('revoke names the token it revoked, and an unknown one fails', async () => {
    const client = new FakeClient();
    client.tokenList = [create(TokenSchema, { id: 'abc', name: 'ci', role: TokenRole.READER })];
    expect((await runWith(client, ['tokens', 'revoke', 'abc'])).stdout).toBe('revoked token abc ("ci")\n');
    const missing = await runWith(client, ['tokens', 'revoke', 'zzz']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/token "zzz" does not exist/);
  });
});
