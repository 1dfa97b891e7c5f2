import type { Attributes, HrTime } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonTraceSerializer, TraceExporterMetricsHelper, type IExportTraceServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/**
 * The OTLP/HTTP JSON encoding of an export request, written straight into one string: the same
 * JSON the SDK's `JsonTraceSerializer` produces (hex ids, nanosecond strings, AnyValue
 * attributes), without building the request's object tree first and converting every timestamp
 * through BigInt — which is most of what exporting costs per span.
 */
export function encodeTraceRequestJson(spans: readonly ReadableSpan[]): string {
  // Grouped as the SDK groups them: by resource, then by instrumentation scope.
  const byResource = new Map<ReadableSpan['resource'], Map<string, ReadableSpan[]>>();
  for (const s of spans) {
    let scopes = byResource.get(s.resource);
    if (!scopes) byResource.set(s.resource, (scopes = new Map()));
    const sc = s.instrumentationScope;
    const key = `${sc.name}@${sc.version || ''}:${sc.schemaUrl || ''}`;
    const list = scopes.get(key);
    if (list) list.push(s);
    else scopes.set(key, [s]);
  }
  let out = '{"resourceSpans":[';
  let firstResource = true;
  for (const [resource, scopes] of byResource) {
    out += `${firstResource ? '' : ','}{"resource":{"attributes":${attributes(resource.attributes)},"droppedAttributesCount":0${resource.schemaUrl ? `,"schemaUrl":${JSON.stringify(resource.schemaUrl)}` : ''}},"scopeSpans":[`;
    firstResource = false;
    let firstScope = true;
    for (const list of scopes.values()) {
      const sc = list[0]!.instrumentationScope;
      const scAttrs = (sc as { attributes?: Attributes; droppedAttributesCount?: number }).attributes;
      const scopeAttrs = scAttrs && Object.keys(scAttrs).length > 0 ? `,"attributes":${attributes(scAttrs)},"droppedAttributesCount":${(sc as { droppedAttributesCount?: number }).droppedAttributesCount ?? 0}` : '';
      out += `${firstScope ? '' : ','}{"scope":{"name":${JSON.stringify(sc.name)}${sc.version !== undefined ? `,"version":${JSON.stringify(sc.version)}` : ''}${scopeAttrs}},"spans":[`;
      firstScope = false;
      for (let i = 0; i < list.length; i++) out += (i > 0 ? ',' : '') + span(list[i]!);
      out += `]${sc.schemaUrl !== undefined ? `,"schemaUrl":${JSON.stringify(sc.schemaUrl)}` : ''}}`;
    }
    out += ']';
    if (resource.schemaUrl) out += `,"schemaUrl":${JSON.stringify(resource.schemaUrl)}`;
    out += '}';
  }
  return `${out}]}`;
}

/** OTLP span flags: the W3C trace flags with HAS_IS_REMOTE, and IS_REMOTE when it is. */
const flags = (traceFlags: number, isRemote: boolean | undefined) => (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);

function span(s: ReadableSpan): string {
  const ctx = s.spanContext();
  const parent = s.parentSpanContext?.spanId;
  const ts = ctx.traceState?.serialize();
  let out = `{"traceId":"${ctx.traceId}","spanId":"${ctx.spanId}"`;
  if (parent) out += `,"parentSpanId":"${parent}"`;
  if (ts !== undefined) out += `,"traceState":${JSON.stringify(ts)}`;
  out += `,"name":${JSON.stringify(s.name)},"kind":${s.kind == null ? 0 : s.kind + 1},"startTimeUnixNano":"${nanos(s.startTime)}","endTimeUnixNano":"${nanos(s.endTime)}","attributes":${attributes(s.attributes)},"droppedAttributesCount":${s.droppedAttributesCount},"events":[`;
  for (let i = 0; i < s.events.length; i++) {
    const e = s.events[i]!;
    out += `${i > 0 ? ',' : ''}{"attributes":${e.attributes ? attributes(e.attributes) : '[]'},"name":${JSON.stringify(e.name)},"timeUnixNano":"${nanos(e.time)}","droppedAttributesCount":${e.droppedAttributesCount || 0}}`;
  }
  out += `],"droppedEventsCount":${s.droppedEventsCount},"status":{"code":${s.status.code}${s.status.message !== undefined ? `,"message":${JSON.stringify(s.status.message)}` : ''}},"links":[`;
  for (let i = 0; i < s.links.length; i++) {
    const l = s.links[i]!;
    const lts = l.context.traceState?.serialize();
    out += `${i > 0 ? ',' : ''}{"attributes":${l.attributes ? attributes(l.attributes) : '[]'},"spanId":"${l.context.spanId}","traceId":"${l.context.traceId}"${lts !== undefined ? `,"traceState":${JSON.stringify(lts)}` : ''},"droppedAttributesCount":${l.droppedAttributesCount || 0},"flags":${flags(l.context.traceFlags, l.context.isRemote)}}`;
  }
  return `${out}],"droppedLinksCount":${s.droppedLinksCount},"flags":${flags(ctx.traceFlags, s.parentSpanContext?.isRemote)}}`;
}

/** Nanoseconds since the epoch as a decimal string, as the SDK's BigInt conversion writes them. */
export function nanos(t: HrTime): string {
  const [s, ns] = t;
  if (Number.isInteger(s) && Number.isInteger(ns) && s > 0 && s < 9e15 && ns >= 0 && ns < 1e9) return `${s}${String(ns).padStart(9, '0')}`;
  return (BigInt(Math.trunc(s)) * 1_000_000_000n + BigInt(Math.trunc(ns))).toString();
}

function attributes(attrs: Attributes): string {
  let out = '[';
  let first = true;
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    out += `${first ? '' : ','}{"key":${JSON.stringify(key)},"value":${anyValue(attrs[key])}}`;
    first = false;
  }
  return `${out}]`;
}

function anyValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${JSON.stringify(v)}}`;
    case 'number':
      return Number.isInteger(v) ? `{"intValue":${v}}` : `{"doubleValue":${JSON.stringify(v)}}`;
    case 'boolean':
      return `{"boolValue":${v}}`;
    case 'object': {
      if (v === null) return '{}';
      if (v instanceof Uint8Array) return `{"bytesValue":"${Buffer.from(v).toString('base64')}"}`;
      if (Array.isArray(v)) return `{"arrayValue":{"values":[${v.map(anyValue).join(',')}]}}`;
      const kv = Object.keys(v).map((k) => `{"key":${JSON.stringify(k)},"value":${anyValue((v as Record<string, unknown>)[k])}}`);
      return `{"kvlistValue":{"values":[${kv.join(',')}]}}`;
    }
    default:
      return '{}';
  }
}

/** The SDK's JSON serializer with {@link encodeTraceRequestJson} for requests. */
export const FastJsonTraceSerializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: (spans) => Buffer.from(encodeTraceRequestJson(spans)),
  deserializeResponse: (res) => JsonTraceSerializer.deserializeResponse(res),
};

/**
 * The OTLP/HTTP JSON trace exporter, as `@opentelemetry/exporter-trace-otlp-http` builds it
 * (endpoint, headers, timeout, compression and retries from `OTEL_EXPORTER_OTLP_*`), encoding
 * with {@link FastJsonTraceSerializer}.
 */
export function jsonTraceExporter(): SpanExporter {
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
      FastJsonTraceSerializer,
      'otlp_http_span_exporter',
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}
