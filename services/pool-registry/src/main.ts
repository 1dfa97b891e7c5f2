import { loadRegistryConfig } from '@longshore/config';
import { startRegistry } from '@longshore/registry';
import { createLogger, exitOnStartupError, handleShutdownSignals } from '@longshore/telemetry';

const logger = createLogger('pool-registry');
const shutdown = handleShutdownSignals(logger);
try {
  const registry = await startRegistry(loadRegistryConfig(), logger);
  shutdown.attach(() => registry.close());
} catch (err) {
  exitOnStartupError(err, logger);
}
