/**
 * What `console` and `up` load for the console only when they run: its configuration (zod
 * schemas), as deferred.ts is by the commands that talk to the cluster.
 */
export { loadClientSecurity, loadConsoleConfig } from '@longshore/config';
