import { loadRegistryConfig } from '@longshore/config';
import { startRegistry } from '@longshore/registry';
import { closeOnSignals, createLogger, exitOnStartupError } from '@longshore/telemetry';

const logger = createLogger('pool-registry');
try {
  const registry = await startRegistry(loadRegistryConfig(), logger);
  closeOnSignals(() => registry.close(), logger);
} catch (err) {
  exitOnStartupError(err, logger);
}
