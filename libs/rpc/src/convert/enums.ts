import { EXECUTORS, JOB_STATES, type AgentStateName, type DockerPullPolicy, type ExecutorName, type FailureClassName, type JobStateName, type PoolHealthName, type TokenRole as TokenRoleName } from '@longshore/domain';
import { AgentState, Executor, FailureClass, JobState, LogStream, PoolHealth, PullPolicy, TokenRole } from '@longshore/proto';

/** Maps between a domain word and a proto enum, both ways. */
function bimap<W extends string, E extends number>(pairs: [W, E][]) {
  const toE = new Map(pairs);
  const toW = new Map(pairs.map(([w, e]) => [e, w]));
  return {
    toProto: (w: W): E => toE.get(w)!,
    fromProto: (e: E): W | undefined => toW.get(e),
  };
}

// Each domain name maps to the proto value of the same name (`noop` → EXECUTOR_NOOP): the
// compiler refuses a name the proto lacks.
export const executorEnum = bimap<ExecutorName, Executor>(EXECUTORS.map((name) => [name, Executor[name.toUpperCase() as Uppercase<ExecutorName>]]));

export const jobStateEnum = bimap<JobStateName, JobState>(JOB_STATES.map((name) => [name, JobState[name.toUpperCase() as Uppercase<JobStateName>]]));

export const failureClassEnum = bimap<FailureClassName, FailureClass>([
  ['start_failed', FailureClass.START_FAILED],
  ['lost', FailureClass.LOST],
  ['oom', FailureClass.OOM],
  ['timeout', FailureClass.TIMEOUT],
  ['cancelled', FailureClass.CANCELLED],
  ['exit', FailureClass.EXIT],
]);

export const agentStateEnum = bimap<AgentStateName, AgentState>([
  ['active', AgentState.ACTIVE],
  ['draining', AgentState.DRAINING],
  ['lost', AgentState.LOST],
]);

export const poolHealthEnum = bimap<PoolHealthName, PoolHealth>([
  ['healthy', PoolHealth.HEALTHY],
  ['degraded', PoolHealth.DEGRADED],
  ['no_agents', PoolHealth.NO_AGENTS],
]);

export const logStreamEnum = bimap<'stdout' | 'stderr' | 'system', LogStream>([
  ['stdout', LogStream.STDOUT],
  ['stderr', LogStream.STDERR],
  ['system', LogStream.SYSTEM],
]);

export const tokenRoleEnum = bimap<TokenRoleName, TokenRole>([
  ['admin', TokenRole.ADMIN],
  ['submitter', TokenRole.SUBMITTER],
  ['reader', TokenRole.READER],
  ['agent', TokenRole.AGENT],
]);

export const pullPolicyEnum = bimap<DockerPullPolicy, PullPolicy>([
  ['if_not_present', PullPolicy.IF_NOT_PRESENT],
  ['always', PullPolicy.ALWAYS],
  ['never', PullPolicy.NEVER],
]);
