import { AGENT_EXECUTORS, type AgentExecutorName } from '@longshore/domain';
import { z } from 'zod';

/** The executors an agent has unless `LONGSHORE_EXECUTORS` says otherwise (plus {@link DEFAULT_EXECUTORS_IF_HEALTHY}). */
export const DEFAULT_EXECUTORS = 'subprocess';

/** Added to {@link DEFAULT_EXECUTORS} when `LONGSHORE_EXECUTORS` is unset, if healthy at start (an engine answers). */
export const DEFAULT_EXECUTORS_IF_HEALTHY: readonly AgentExecutorName[] = ['docker'];

/**
 * `LONGSHORE_EXECUTORS`: a comma list of executor names, each once, at least one. `noop` (which
 * runs nothing and reports success) is there only when listed, for benchmarks.
 */
export function executorListField() {
  return z.string().transform((text, ctx): AgentExecutorName[] => {
    const names = text.split(',').map((n) => n.trim()).filter(Boolean);
    const allowed = `allowed: ${AGENT_EXECUTORS.join(', ')}`;
    const unknown = names.filter((n) => !(AGENT_EXECUTORS as readonly string[]).includes(n));
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: `must list at least one executor, comma-separated (${allowed})` });
    else if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `${unknown.map((n) => `"${n}"`).join(', ')} is not an executor (${allowed})` });
    else if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', message: 'names an executor twice' });
    return names as AgentExecutorName[];
  });
}
