/**
 * The export thread (a worker_thread of a service that exports traces over OTLP): it receives
 * ended spans from the main thread ({@link WireSpan}, as JSON text or, for spans with attribute
 * values JSON cannot carry, structured-cloned) and runs what the SDK would otherwise run
 * on the main thread — the BatchSpanProcessor (`OTEL_BSP_*`), the OTLP encoding and the HTTP or
 * gRPC export — configured from the same `OTEL_EXPORTER_OTLP_*` variables (a worker gets a copy
 * of the process' environment), with the protocol from `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` /
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` default, `http/json`, `grpc`), as the SDK does.
 */
import { parentPort } from 'node:worker_threads';
import { TraceFlags, type HrTime, type Link, type SpanContext } from '@opentelemetry/api';
import { hrTimeDuration, TraceState } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { otlpBatchProcessorFromEnv } from './otlp-export.js';
import type { FromExportThread, ToExportThread, WireScope, WireSpan } from './span-wire.js';

const port = parentPort;
if (!port) throw new Error('span-export-thread runs as a worker thread only');

const processor = await otlpBatchProcessorFromEnv();
const scopes = new Map<number, { name: string; version?: string; schemaUrl?: string }>();
const resources = new Map<number, Resource>();

const traceStates = new Map<string, TraceState>();
function traceState(s: string | null | undefined): TraceState | undefined {
  if (!s) return undefined;
  let ts = traceStates.get(s);
  if (!ts) {
    if (traceStates.size > 100) traceStates.clear();
    traceStates.set(s, (ts = new TraceState(s)));
  }
  return ts;
}

function scope(s: WireScope): { name: string; version?: string; schemaUrl?: string } {
  return { name: s[0], ...(s[1] != null ? { version: s[1] } : {}), ...(s[2] != null ? { schemaUrl: s[2] } : {}) };
}

/** The ReadableSpan the exporters read, from its wire form. */
function readable(w: WireSpan): ReadableSpan {
  const ctx: SpanContext = { traceId: w[2], spanId: w[3], traceFlags: w[4] };
  const ts = traceState(w[5]);
  if (ts) ctx.traceState = ts;
  const start: HrTime = w[8];
  const end: HrTime = w[9];
  return {
    name: w[0],
    kind: w[1],
    spanContext: () => ctx,
    parentSpanContext: w[6] == null ? undefined : { traceId: w[2], spanId: w[6], traceFlags: TraceFlags.NONE, ...(w[7] != null ? { isRemote: w[7] } : {}) },
    startTime: start,
    endTime: end,
    duration: hrTimeDuration(start, end),
    status: w[11] == null ? { code: w[10] } : { code: w[10], message: w[11] },
    attributes: w[12],
    droppedAttributesCount: w[13],
    links: (w[14] ?? []).map(
      (l): Link => ({
        context: { traceId: l[0], spanId: l[1], traceFlags: l[2], ...(traceState(l[3]) ? { traceState: traceState(l[3])! } : {}), ...(l[4] != null ? { isRemote: l[4] } : {}) },
        ...(l[5] ? { attributes: l[5] } : {}),
        droppedAttributesCount: l[6],
      }),
    ),
    droppedLinksCount: w[15],
    events: (w[16] ?? []).map((e) => ({ name: e[0], time: e[1], ...(e[2] ? { attributes: e[2] } : {}), droppedAttributesCount: e[3] })),
    droppedEventsCount: w[17],
    ended: true,
    instrumentationScope: scopes.get(w[18]) ?? { name: 'unknown' },
    resource: resources.get(w[19]) ?? resourceFromAttributes({}),
  };
}

const reply = (m: FromExportThread) => port.postMessage(m);

port.on('message', (raw: ToExportThread | string) => {
  // Spans come as JSON text (cheaper to make and to post than a structured clone), absent fields as null.
  const m = typeof raw === 'string' ? (JSON.parse(raw) as ToExportThread) : raw;
  if (m.t === 'spans') {
    for (const [i, s] of m.scopes ?? []) scopes.set(i, scope(s));
    for (const [i, [attributes, schemaUrl]] of m.resources ?? []) resources.set(i, resourceFromAttributes(attributes, schemaUrl ? { schemaUrl } : {}));
    for (const w of m.spans) processor.onEnd(readable(w));
  } else {
    const done = m.t === 'flush' ? processor.forceFlush() : processor.shutdown();
    done.then(
      () => reply({ t: 'done', id: m.id }),
      (err: unknown) => reply({ t: 'done', id: m.id, error: err instanceof Error ? err.message : String(err) }),
    );
  }
});
