import { DispatcherService, PoolRegistryService, TokenService } from '@longshore/proto';
import { Code, type LongshoreError, type Principal } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { checkPool, checkRole, METHOD_ROLES, neededRole } from './policy.js';

const who = (role: Principal['role'], pools: string[] = []): Principal => ({ tokenId: 't1', name: 'n', role, pools });
const code = (fn: () => void): Code | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as LongshoreError).code;
  }
};

describe('the method policy', () => {
  it('names a role for every RPC of every service, so none is open or closed by accident', () => {
    const paths = [DispatcherService, PoolRegistryService, TokenService].flatMap((svc) => svc.methods.map((m) => `${svc.typeName}/${m.name}`));
    expect(paths.filter((p) => !(p in METHOD_ROLES))).toEqual([]);
    expect(Object.keys(METHOD_ROLES).filter((p) => !paths.includes(p))).toEqual([]);
  });

  it('closes unknown methods to all but admins', () => {
    expect(neededRole('longshore.v1.NewService/Anything')).toBe('admin');
  });

  it('grants admin everything, submitter what a reader may, and agents only agent calls', () => {
    const submit = 'longshore.v1.DispatcherService/SubmitJob';
    const read = 'longshore.v1.DispatcherService/GetJob';
    const register = 'longshore.v1.PoolRegistryService/RegisterAgent';
    const deletePool = 'longshore.v1.PoolRegistryService/DeletePool';
    expect([submit, read, register, deletePool].map((m) => code(() => checkRole(who('admin'), m)))).toEqual([undefined, undefined, undefined, undefined]);
    expect([submit, read, register, deletePool].map((m) => code(() => checkRole(who('submitter'), m)))).toEqual([undefined, undefined, Code.PermissionDenied, Code.PermissionDenied]);
    expect([submit, read, register, deletePool].map((m) => code(() => checkRole(who('reader'), m)))).toEqual([Code.PermissionDenied, undefined, Code.PermissionDenied, Code.PermissionDenied]);
    expect([submit, read, register, deletePool].map((m) => code(() => checkRole(who('agent', ['p']), m)))).toEqual([Code.PermissionDenied, Code.PermissionDenied, undefined, Code.PermissionDenied]);
  });

  it('says which role is needed and which token was used', () => {
    expect(() => checkRole(who('reader'), 'longshore.v1.PoolRegistryService/DeletePool')).toThrow(/DeletePool needs the admin role; this call used token "n" \(id t1, role reader\)/);
  });

  it('limits pool-bound tokens to their pools', () => {
    expect(code(() => checkPool(who('submitter', ['a']), 'a', 'the job'))).toBeUndefined();
    expect(code(() => checkPool(who('submitter'), 'b', 'the job'))).toBeUndefined();
    expect(() => checkPool(who('submitter', ['a']), 'b', 'the job')).toThrow(/the job is in pool "b", but token "n" .* may only use pools a/);
  });
});
