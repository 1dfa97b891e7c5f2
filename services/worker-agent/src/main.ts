import { loadAgentConfig } from '@longshore/config';
import { startAgent } from '@longshore/agent';
import { createLogger, exitAfterFlush, exitOnStartupError, handleShutdownSignals } from '@longshore/telemetry';

const logger = createLogger('worker-agent');
const shutdown = handleShutdownSignals(logger);
try {
  const agent = await startAgent(loadAgentConfig(), logger);
  shutdown.attach(() => agent.close());
  // Drained through the registry (longshore agents drain): leave once done.
  void agent.stopped.then(() => exitAfterFlush(logger, 0));
} catch (err) {
  exitOnStartupError(err, logger);
}
