import { loadRegistryConfig } from '@longshore/config';
import { startRegistry } from '@longshore/registry';
import { createLogger, exitOnStartupError, handleShutdownSignals, startMetrics } from '@longshore/telemetry';

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
