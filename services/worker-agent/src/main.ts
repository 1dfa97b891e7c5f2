import { startAgent } from '@longshore/agent';
import { loadAgentConfig } from '@longshore/config';
import { closeOnSignals, createLogger, exitOnStartupError } from '@longshore/telemetry';

const logger = createLogger('worker-agent');
try {
  const agent = await startAgent(loadAgentConfig(), logger);
  closeOnSignals(() => agent.close(), logger);
} catch (err) {
  exitOnStartupError(err, logger);
}
