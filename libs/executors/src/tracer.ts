import { trace, type Tracer } from '@opentelemetry/api';

/** The tracer of the executors' own spans (`executor.pull`, `executor.build`), under the agent's `executor.start`. */
export const tracer = (): Tracer => trace.getTracer('longshore.executors');
