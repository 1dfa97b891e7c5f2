import { loadDispatcherConfig } from '@longshore/config';
import { startDispatcher } from '@longshore/dispatcher';
import { createLogger, exitOnStartupError, handleShutdownSignals, startTelemetry } from '@longshore/telemetry';

// Tracing from the OTEL_* variables, first: nothing is recorded or exported without an endpoint.
await startTelemetry('dispatcher');

const logger = createLogger('dispatcher');
const shutdown = handleShutdownSignals(logger);
try {
  const dispatcher = await startDispatcher(loadDispatcherConfig(), logger);
  shutdown.attach(() => dispatcher.close());
} catch (err) {
  exitOnStartupError(err, logger);
}
