/**
 * `@longshore/console`: the web console (pools, agents, jobs with live logs), served by a small
 * HTTP server that talks to the dispatcher and registry through the client SDK.
 */
export {};
