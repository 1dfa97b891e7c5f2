import { PermissionDeniedError, type Principal, type TokenRole } from '@longshore/domain';

/** The role a method needs: `any` = any valid token. */
export type Need = TokenRole | 'any';

/**
 * Which role each RPC needs, by full method path. A method missing here needs `admin`: a new
 * RPC is closed until someone decides who may call it (a unit test lists every method).
 */
export const METHOD_ROLES: Readonly<Record<string, Need>> = {
  'longshore.v1.DispatcherService/SubmitJob': 'submitter',
  'longshore.v1.DispatcherService/SubmitJobs': 'submitter',
  'longshore.v1.DispatcherService/CancelJob': 'submitter',
  'longshore.v1.DispatcherService/RetryJob': 'submitter',
  'longshore.v1.DispatcherService/GetJob': 'reader',
  'longshore.v1.DispatcherService/ListJobs': 'reader',
  'longshore.v1.DispatcherService/WatchJob': 'reader',
  'longshore.v1.DispatcherService/StreamJobLogs': 'reader',
  'longshore.v1.PoolRegistryService/CreatePool': 'admin',
  'longshore.v1.PoolRegistryService/UpdatePool': 'admin',
  'longshore.v1.PoolRegistryService/DeletePool': 'admin',
  'longshore.v1.PoolRegistryService/SetDefaultPool': 'admin',
  'longshore.v1.PoolRegistryService/DrainAgent': 'admin',
  'longshore.v1.PoolRegistryService/GetPool': 'reader',
  'longshore.v1.PoolRegistryService/ListPools': 'reader',
  'longshore.v1.PoolRegistryService/ListAgents': 'reader',
  'longshore.v1.PoolRegistryService/RegisterAgent': 'agent',
  'longshore.v1.PoolRegistryService/AgentHeartbeat': 'agent',
  'longshore.v1.PoolRegistryService/DeregisterAgent': 'agent',
  'longshore.v1.TokenService/CreateToken': 'admin',
  'longshore.v1.TokenService/ListTokens': 'admin',
  'longshore.v1.TokenService/RevokeToken': 'admin',
  'longshore.v1.TokenService/WhoAmI': 'any',
};

/** Roles that include another's rights: an admin may do anything, a submitter what a reader may. */
const GRANTS: Readonly<Record<TokenRole, readonly Need[]>> = {
  admin: ['admin', 'submitter', 'reader', 'agent', 'any'],
  submitter: ['submitter', 'reader', 'any'],
  reader: ['reader', 'any'],
  agent: ['agent', 'any'],
};

/** The role `method` needs. */
export function neededRole(method: string): Need {
  return METHOD_ROLES[method] ?? 'admin';
}

/** Describes a token in an error message: its name and id, never its secret. */
export function describeToken(p: Principal): string {
  return `token "${p.name}" (id ${p.tokenId}, role ${p.role}${p.pools.length ? `, pools ${p.pools.join(', ')}` : ''})`;
}

/** @throws PermissionDeniedError naming the role the method needs and what the token has. */
export function checkRole(p: Principal, method: string): void {
  const need = neededRole(method);
  if (GRANTS[p.role].includes(need)) return;
  const name = method.slice(method.lastIndexOf('/') + 1);
  const what = need === 'agent' ? 'an agent token of the pool' : `the ${need} role${need === 'reader' ? ' or higher' : need === 'submitter' ? ' (or admin)' : ''}`;
  throw new PermissionDeniedError(`${name} needs ${what}; this call used ${describeToken(p)}`);
}

/** Whether the caller may act on jobs or agents of `pool` (admins and unlimited tokens may act on all). */
export function mayUsePool(p: Principal, pool: string): boolean {
  return p.role === 'admin' || p.pools.length === 0 || p.pools.includes(pool);
}

/** @throws PermissionDeniedError when the caller's token is limited to other pools. */
export function checkPool(p: Principal, pool: string, what: string): void {
  if (mayUsePool(p, pool)) return;
  throw new PermissionDeniedError(`${what} is in pool "${pool}", but ${describeToken(p)} may only use pools ${p.pools.join(', ')}`);
}
