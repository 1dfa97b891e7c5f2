import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import type { HeldJob } from '@longshore/queue';
import { extractTraceContext, tracerGetter, withSpan } from '@longshore/telemetry';
import type { RunEnd } from './job-run.js';

const tracer = tracerGetter('longshore.agent');

/** The spans of one attempt: `claim` (then ended) and `attempt`, whose context the run works in. */
export interface AttemptSpans {
  /** The attempt span's context: `executor.start`, `run`, logs and the job's TRACEPARENT live in it. */
  readonly ctx: Context;
  readonly span: Span;
}

/**
 * Starts an attempt's spans in the job's trace: a `claim` CONSUMER span (messaging `receive`
 * from the pool's queue) whose parent is the context the dispatcher's `enqueue` span wrote into
 * the job's data, linked to it as well (the claim starts long after that span ended, after the
 * queue wait), and under it the `attempt` span, with `longshore.*` attributes. Every attempt of
 * a job, retries included, lands in the same trace. `process.command_args` comes from the job's
 * spec as submitted, never from what the executor is given.
 */
export function startAttemptSpans(job: HeldJob, agentId: string, adopted: boolean): AttemptSpans {
  const parent = extractTraceContext(job.trace);
  const parentSpan = trace.getSpanContext(parent);
  const links: Link[] = parentSpan ? [{ context: parentSpan, attributes: { 'longshore.link': 'enqueued' } }] : [];
  const spec = job.spec;
  // The messaging attributes name the pool and the job; the attempt span below carries the rest.
  const claim = tracer().startSpan(
    'claim',
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'longshore',
        'messaging.operation.type': 'receive',
        'messaging.operation.name': 'claim',
        'messaging.destination.name': job.pool,
        'messaging.message.id': job.id,
        'longshore.agent': agentId,
        'longshore.attempt': job.attempt,
      },
    },
    parent,
  );
  const claimCtx = trace.setSpan(parent, claim);
  const span = tracer().startSpan(
    'attempt',
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'longshore.job.id': job.id,
        'longshore.pool': job.pool,
        'longshore.agent': agentId,
        'longshore.attempt': job.attempt,
        'longshore.weight': spec.weightMilli / 1000,
        ...(spec.lane ? { 'longshore.lane': spec.lane } : {}),
        'process.command_args': [...spec.command],
        ...(adopted ? { 'longshore.adopted': true } : {}),
        ...(spec.image ? { 'container.image.name': spec.image } : {}),
      },
    },
    claimCtx,
  );
  claim.end();
  return { ctx: trace.setSpan(claimCtx, span), span };
}

/** Ends the attempt span with how the attempt ended. */
export function endAttemptSpan(span: Span, end: RunEnd | undefined, err?: unknown): void {
  if (end?.kind === 'finish') {
    const o = end.outcome;
    span.setAttribute('longshore.executor', o.attempt.executor);
    span.setAttribute('longshore.outcome', o.state);
    if (o.failureClass) span.setAttribute('longshore.failure_class', o.failureClass);
    if (o.exitCode !== undefined) {
      span.setAttribute('longshore.exit_code', o.exitCode);
      span.setAttribute('process.exit.code', o.exitCode);
    }
    if (o.state === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: o.message });
  } else if (end) {
    span.setAttribute('longshore.outcome', end.kind);
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

/** Runs `fn` in a child span of the active context (`executor.start`, `run`); see {@link withSpan}. */
export function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>, onResult?: (span: Span, res: T) => void): Promise<T> {
  return withSpan(tracer(), name, attributes, fn, onResult);
}

/** A `finish` span under an attempt: the agent recording how it ended (one write may record several). */
export function startFinishSpan(attemptCtx: Context | undefined, job: Pick<HeldJob, 'id'>): Span | undefined {
  if (!attemptCtx) return undefined;
  return tracer().startSpan('finish', { attributes: { 'longshore.job.id': job.id } }, attemptCtx);
}
