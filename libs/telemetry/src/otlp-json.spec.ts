import { SpanKind, SpanStatusCode, TraceFlags, context, createTraceState, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { encodeTraceRequestJson, nanos } from './otlp-json.js';

/** Spans of two resources and scopes, with every kind of field the encoder writes. */
function sample(): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const processor = { onStart() {}, onEnd: (s: ReadableSpan) => void ended.push(s), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  const a = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'a', 'process.pid': 42, 'host.arch': 'amd64' }, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }), spanProcessors: [processor] });
  const b = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'b "quoted"\n' }), spanProcessors: [processor] });
  const remote = trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('vendor=x,other=y'),
  });
  const t1 = a.getTracer('longshore.agent', '1.0.0', { schemaUrl: 'https://example.com/s' });
  const claim = t1.startSpan(
    'claim',
    {
      kind: SpanKind.CONSUMER,
      attributes: { 's': 'ünïcode "q" \\ \u0001', 'i': 3, 'neg': -7, 'd': 0.125, 'b': false, 'arr': ['x', 'y'], 'nums': [1, 2.5], 'big': 1e21 },
      links: [{ context: trace.getSpanContext(remote)!, attributes: { 'longshore.link': 'enqueued' } }, { context: { traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', traceFlags: 0 } }],
    },
    remote,
  );
  const attempt = t1.startSpan('attempt', { attributes: { 'bytes': new Uint8Array([1, 2, 255]) as unknown as string } }, trace.setSpan(remote, claim));
  attempt.addEvent('started', { n: 1, what: 'x' });
  attempt.addEvent('bare');
  attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'exit 3 "bad"' });
  attempt.end();
  claim.setStatus({ code: SpanStatusCode.OK });
  claim.end();
  a.getTracer('longshore.executors').startSpan('run', { startTime: [1_700_000_000, 5], attributes: {} }).end([1_700_000_001, 999_999_999]);
  b.getTracer('longshore.rpc').startSpan('root', { kind: SpanKind.SERVER }).end();
  return ended;
}

describe('encodeTraceRequestJson', () => {
  it('writes the JSON the SDK’s OTLP serializer writes', () => {
    const spans = sample();
    const sdk = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    const ours = JSON.parse(encodeTraceRequestJson(spans));
    expect(ours).toEqual(sdk);
    expect(ours.resourceSpans).toHaveLength(2);
  });

  it('writes nanoseconds as the SDK’s BigInt conversion does', () => {
    const big = (t: [number, number]) => (BigInt(Math.trunc(t[0])) * 1_000_000_000n + BigInt(Math.trunc(t[1]))).toString();
    for (const t of [[1_700_000_000, 5], [1_700_000_000, 999_999_999], [1, 0], [0, 12], [1_700_000_000.5, 3.7]] as [number, number][]) expect(nanos(t)).toBe(big(t));
  });
});
