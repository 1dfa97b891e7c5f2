import { loadDispatcherConfig } from '@longshore/config';
import { startDispatcher } from '@longshore/dispatcher';
import { createLogger, exitOnStartupError, handleShutdownSignals } from '@longshore/telemetry';

const logger = createLogger('dispatcher');
const shutdown = handleShutdownSignals(logger);
try {
  const dispatcher = await startDispatcher(loadDispatcherConfig(), logger);
  shutdown.attach(() => dispatcher.close());
} catch (err) {
  exitOnStartupError(err, logger);
}
