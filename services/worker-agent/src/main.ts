import { loadAgentConfig } from '@longshore/config';
import { startAgent } from '@longshore/agent';
import { createLogger, exitOnStartupError, handleShutdownSignals } from '@longshore/telemetry';

const logger = createLogger('worker-agent');
const shutdown = handleShutdownSignals(logger);
try {
  const agent = await startAgent(loadAgentConfig(), logger);
  shutdown.attach(() => agent.close());
} catch (err) {
  exitOnStartupError(err, logger);
}
