import type { Attributes, HrTime, SpanKind } from '@opentelemetry/api';

/**
 * An ended span as it crosses from a service's main thread to its export thread: a flat array
 * of what the OTLP encoders read, cheap to build and to structured-clone (no property names).
 */
export type WireSpan = [
  name: string,
  kind: SpanKind,
  traceId: string,
  spanId: string,
  traceFlags: number,
  /** Serialized W3C tracestate, or undefined. */
  traceState: string | undefined,
  parentSpanId: string | undefined,
  parentIsRemote: boolean | undefined,
  start: HrTime,
  end: HrTime,
  statusCode: number,
  statusMessage: string | undefined,
  attributes: Attributes,
  droppedAttributes: number,
  /** [traceId, spanId, traceFlags, traceState, isRemote, attributes, droppedAttributes] each. */
  links: WireLink[] | undefined,
  droppedLinks: number,
  /** [name, time, attributes, droppedAttributes] each. */
  events: WireEvent[] | undefined,
  droppedEvents: number,
  /** Index into the scopes sent so far. */
  scope: number,
  /** Index into the resources sent so far. */
  resource: number,
];

export type WireLink = [traceId: string, spanId: string, traceFlags: number, traceState: string | undefined, isRemote: boolean | undefined, attributes: Attributes | undefined, dropped: number];
export type WireEvent = [name: string, time: HrTime, attributes: Attributes | undefined, dropped: number];

/** An instrumentation scope: [name, version, schemaUrl]. */
export type WireScope = [name: string, version: string | undefined, schemaUrl: string | undefined];
/** A resource: its (settled) attributes and schema URL. */
export type WireResource = [attributes: Attributes, schemaUrl: string | undefined];

/** Main thread → export thread. */
export type ToExportThread =
  | { t: 'spans'; scopes?: [number, WireScope][]; resources?: [number, WireResource][]; spans: WireSpan[] }
  | { t: 'flush'; id: number }
  | { t: 'shutdown'; id: number };

/** Export thread → main thread: a flush or shutdown is done. */
export type FromExportThread = { t: 'done'; id: number; error?: string };
