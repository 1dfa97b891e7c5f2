import { loadAgentConfig } from '@longshore/config';
import { startAgent } from '@longshore/agent';
import { createLogger, exitAfterFlush, exitOnStartupError, handleShutdownSignals, startTelemetry } from '@longshore/telemetry';

// Tracing from the OTEL_* variables, first: nothing is recorded or exported without an endpoint.
await startTelemetry('worker-agent');

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
