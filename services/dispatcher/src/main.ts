import { loadDispatcherConfig } from '@longshore/config';
import { startDispatcher } from '@longshore/dispatcher';
import { closeOnSignals, createLogger, exitOnStartupError } from '@longshore/telemetry';

const logger = createLogger('dispatcher');
try {
  const dispatcher = await startDispatcher(loadDispatcherConfig(), logger);
  closeOnSignals(() => dispatcher.close(), logger);
} catch (err) {
  exitOnStartupError(err, logger);
}
