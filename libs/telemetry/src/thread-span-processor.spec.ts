import { SpanKind, SpanStatusCode, TraceFlags, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ThreadSpanProcessor } from './thread-span-processor.js';

// The compiled thread (the tests' global setup builds first): from sources there is none.
const THREAD = new URL('../dist/span-export-thread.js', import.meta.url);

interface Received {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  startNs: bigint;
  endNs: bigint;
  status: number;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; bytesValue?: string; arrayValue?: { values?: AnyValue[] } };
const value = (v: AnyValue): unknown =>
  v.stringValue ?? v.bytesValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue ?? v.arrayValue?.values?.map(value);
const attrs = (kvs: { key: string; value: AnyValue }[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, value(kv.value)]));

/** A bare OTLP/HTTP JSON receiver on loopback (the testing lib's depends on this lib). */
async function receiver_(): Promise<{ url: string; spans: Received[]; close(): Promise<void> }> {
  const spans: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const body = JSON.parse(Buffer.concat(chunks).toString()) as any;
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attrs(s.attributes),
              links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
              startNs: BigInt(s.startTimeUnixNano),
              endNs: BigInt(s.endTimeUnixNano),
              status: s.status?.code ?? 0,
            });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, spans, close: () => new Promise((r) => server.close(() => r())) };
}

describe('ThreadSpanProcessor', () => {
  it('exports what the SDK recorded from its worker thread, over the OTLP protocol the environment names', async () => {
    const receiver = await receiver_();
    const processor = new ThreadSpanProcessor(THREAD, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '60000' });
    const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'thread-spec' }), spanProcessors: [processor] });
    try {
      const tracer = provider.getTracer('spec', '1.2.3');
      const remote = trace.setSpanContext(context.active(), { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true });
      const parent = tracer.startSpan('claim', { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'longshore', 'longshore.weight': 0.125, 'longshore.attempt': 2, 'process.command_args': ['echo', 'hi'] }, links: [{ context: trace.getSpanContext(remote)!, attributes: { 'longshore.link': 'enqueued' } }] }, remote);
      const child = tracer.startSpan('attempt', {}, trace.setSpan(remote, parent));
      child.addEvent('started', { n: 1 });
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'exit 3' });
      child.setAttribute('longshore.exit_code', 3);
      // A value JSON would not carry as it is: that span goes structured-cloned.
      const bytes = tracer.startSpan('bytes', { attributes: { 'spec.bytes': new Uint8Array([1, 2, 3]) as unknown as string } }, trace.setSpan(remote, parent));
      bytes.end();
      child.end();
      parent.end();
      // Not sampled: never leaves the main thread.
      tracer.startSpan('dropped', {}, trace.setSpanContext(context.active(), { traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', traceFlags: TraceFlags.NONE })).end();
      // A flush waits for the thread's exporter, whatever the schedule delay.
      await provider.forceFlush();
      expect(receiver.spans.map((s) => s.name).sort()).toEqual(['attempt', 'bytes', 'claim']);
      const claim = receiver.spans.find((s) => s.name === 'claim')!;
      const attempt = receiver.spans.find((s) => s.name === 'attempt')!;
      expect(claim).toMatchObject({
        service: 'thread-spec',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        parentSpanId: 'b7ad6b7169203331',
        kind: 5,
        attributes: { 'messaging.system': 'longshore', 'longshore.weight': 0.125, 'longshore.attempt': 2, 'process.command_args': ['echo', 'hi'] },
        links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }],
      });
      expect(attempt).toMatchObject({ traceId: claim.traceId, parentSpanId: claim.spanId, kind: 1, status: 2, attributes: { 'longshore.exit_code': 3 } });
      expect(attempt.endNs).toBeGreaterThanOrEqual(attempt.startNs);
      expect(receiver.spans.find((s) => s.name === 'bytes')).toMatchObject({ parentSpanId: claim.spanId, attributes: { 'spec.bytes': 'AQID' } });
      // Shutdown flushes what is left and stops the thread.
      tracer.startSpan('last').end();
      await provider.shutdown();
      expect(receiver.spans.some((s) => s.name === 'last')).toBe(true);
    } finally {
      await provider.shutdown();
      await receiver.close();
    }
  });
});
