import { loadAgentConfig } from '@longshore/config';
import { startAgent } from '@longshore/agent';
import { createLogger, exitAfterFlush, exitOnStartupError, handleShutdownSignals, startMetrics, startTelemetry } from '@longshore/telemetry';

// Tracing from the OTEL_* variables, first: nothing is recorded or exported without an endpoint.
await startTelemetry('worker-agent');

const logger = createLogger('worker-agent');
const shutdown = handleShutdownSignals(logger);
try {
  const config = loadAgentConfig();
  const metrics = await startMetrics({ serviceName: 'worker-agent', address: config.metricsAddr, env: process.env, logger });
  const agent = await startAgent(config, logger);
  shutdown.attach(() => agent.close().finally(() => metrics.shutdown()));
  // Drained through the registry (longshore agents drain): leave once done.
  void agent.stopped.then(() => metrics.shutdown()).then(() => exitAfterFlush(logger, 0));
} catch (err) {
  exitOnStartupError(err, logger);
}
