import { loadRegistryConfig } from '@longshore/config';
import { startRegistry } from '@longshore/registry';
import { createLogger, exitOnStartupError, handleShutdownSignals, startMetrics, startTelemetry } from '@longshore/telemetry';

// Tracing from the OTEL_* variables, first: nothing is recorded or exported without an endpoint.
await startTelemetry('pool-registry');

const logger = createLogger('pool-registry');
const shutdown = handleShutdownSignals(logger);
try {
  const config = loadRegistryConfig();
  const metrics = await startMetrics({ serviceName: 'pool-registry', address: config.metricsAddr, env: process.env, logger });
  const registry = await startRegistry(config, logger);
  shutdown.attach(() => registry.close().finally(() => metrics.shutdown()));
} catch (err) {
  exitOnStartupError(err, logger);
}
