import { loadRegistryConfig } from '@longshore/config';
import { startRegistry } from '@longshore/registry';
import { createLogger, exitOnStartupError, handleShutdownSignals, startTelemetry } from '@longshore/telemetry';

// Tracing from the OTEL_* variables, first: nothing is recorded or exported without an endpoint.
await startTelemetry('pool-registry');

const logger = createLogger('pool-registry');
const shutdown = handleShutdownSignals(logger);
try {
  const registry = await startRegistry(loadRegistryConfig(), logger);
  shutdown.attach(() => registry.close());
} catch (err) {
  exitOnStartupError(err, logger);
}
