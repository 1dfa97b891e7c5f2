/**
 * `@longshore/console`: the web console (pools, agents, jobs with live logs), served by a small
 * HTTP server that talks to the dispatcher and registry through the client SDK with each user's
 * own token.
 */
export { startConsoleServer } from './server/server.js';
export type { ConsoleServer, ConsoleServerOptions } from './server/server.js';
export type * from './api-types.js';
