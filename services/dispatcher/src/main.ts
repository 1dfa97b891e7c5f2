import { loadDispatcherConfig } from '@longshore/config';
import { startDispatcher } from '@longshore/dispatcher';
import { createLogger, exitOnStartupError, handleShutdownSignals, startMetrics, startTelemetry } from '@longshore/telemetry';

// Tracing from the OTEL_* variables, first: nothing is recorded or exported without an endpoint.
await startTelemetry('dispatcher');

const logger = createLogger('dispatcher');
const shutdown = handleShutdownSignals(logger);
try {
  const config = loadDispatcherConfig();
  const metrics = await startMetrics({ serviceName: 'dispatcher', address: config.metricsAddr, env: process.env, logger });
  const dispatcher = await startDispatcher(config, logger);
  shutdown.attach(() => dispatcher.close().finally(() => metrics.shutdown()));
} catch (err) {
  exitOnStartupError(err, logger);
}
