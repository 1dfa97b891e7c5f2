/**
 * What commands that talk to the cluster load only when they run (`await import('./deferred.js')`):
 * the gRPC client, most of the CLI's code. Imported through this module, not the packages'
 * indexes, which the command tree imports for their enums and message schemas: a dynamic import
 * of a module the bundle already loads would pull all of it into the start-up.
 */
export { LongshoreClient } from '@longshore/client';
