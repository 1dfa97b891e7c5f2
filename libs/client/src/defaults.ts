/**
 * Default addresses; the same variables configure the servers. Apart from the client (and its
 * gRPC) so that what only needs them, such as the CLI's option defaults, does not load it.
 */
export const DEFAULT_DISPATCHER = '127.0.0.1:7400';
export const DEFAULT_REGISTRY = '127.0.0.1:7401';
