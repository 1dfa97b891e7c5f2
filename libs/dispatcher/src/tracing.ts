import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { injectTraceContext } from '@longshore/telemetry';
import type { PreparedJob } from './submission.js';

const tracer = () => trace.getTracer('longshore.dispatcher');

/**
 * Stores and queues one pool's part of a submit inside an `enqueue` PRODUCER span (messaging
 * conventions: operation `send` to the pool's queue). Each job's queue data carries this span's
 * context, so the agent that claims it continues the job's trace from here.
 */
export async function inEnqueueSpan<T>(pool: string, jobs: PreparedJob[], fn: () => Promise<T>): Promise<T> {
  const attributes: Attributes = {
    'messaging.system': 'longshore',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'enqueue',
    'messaging.destination.name': pool,
    'longshore.pool': pool,
  };
  if (jobs.length === 1) {
    attributes['messaging.message.id'] = jobs[0]!.record.id;
    attributes['longshore.job.id'] = jobs[0]!.record.id;
    attributes['longshore.weight'] = jobs[0]!.record.weightMilli / 1000;
    if (jobs[0]!.record.spec.lane) attributes['longshore.lane'] = jobs[0]!.record.spec.lane;
  } else {
    attributes['messaging.batch.message_count'] = jobs.length;
  }
  return tracer().startActiveSpan('enqueue', { kind: SpanKind.PRODUCER, attributes }, context.active(), async (span) => {
    const carrier = injectTraceContext();
    for (const j of jobs) j.trace = carrier;
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
