import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { diag, TraceFlags, type Attributes, type Context } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { FromExportThread, ToExportThread, WireResource, WireScope, WireSpan } from './span-wire.js';

/** Ended spans handed to the export thread at once (or after {@link HAND_OFF_MS}). */
const HAND_OFF_SPANS = 256;
/** How long an ended span may wait on the main thread for its batch to fill. */
const HAND_OFF_MS = 50;
/** Spans kept while the export thread starts or is gone (beyond: dropped, as the SDK's queue does). */
const MAX_BUFFERED = 2048;

/** Whether JSON carries every attribute value of `span` as it is (strings, finite numbers, booleans, arrays of them). */
function jsonSafe(span: ReadableSpan): boolean {
  const attrs = span.attributes;
  for (const k in attrs) {
    const v = attrs[k];
    if (typeof v === 'number' ? !Number.isFinite(v) : typeof v === 'object' && v !== null && !(Array.isArray(v) && v.every(plain))) return false;
  }
  for (const l of span.links) if (l.attributes && !plainAttrs(l.attributes)) return false;
  for (const e of span.events) if (e.attributes && !plainAttrs(e.attributes)) return false;
  return true;
}

const plain = (v: unknown): boolean => v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
function plainAttrs(attrs: Attributes): boolean {
  for (const k in attrs) if (!plain(attrs[k]) && !(Array.isArray(attrs[k]) && (attrs[k] as unknown[]).every(plain))) return false;
  return true;
}

/** The export thread's compiled module, when this is a compiled build (from sources or a bundle there is none). */
export function exportThreadUrl(): URL | undefined {
  const url = new URL('./span-export-thread.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined;
}

/**
 * A span processor that hands ended, sampled spans to a worker thread
 * (`span-export-thread.ts`), which batches, encodes and exports them over OTLP: the main thread
 * (a service's event loop, which claims and finishes jobs) only copies each span into a flat
 * array, and posts them in batches. `forceFlush` and `shutdown` wait for the thread's exporter.
 */
export class ThreadSpanProcessor implements SpanProcessor {
  private readonly worker: Worker;
  /** Spans to post as JSON text. */
  private buffer: WireSpan[] = [];
  /** Spans with an attribute JSON would not carry (bytes, a map, a non-finite number): structured-cloned. */
  private cloned: WireSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly scopes = new Map<InstrumentationScope, number>();
  private readonly resources = new Map<Resource, number>();
  private newScopes: [number, WireScope][] = [];
  private newResources: [number, WireResource][] = [];
  /** A resource whose attributes are still being detected: spans wait for it. */
  private pendingResource: Promise<void> | undefined;
  private readonly waiting = new Map<number, () => void>();
  private nextId = 1;
  private gone = false;
  private dropped = 0;

  /** `env`: the thread's environment, where its exporter reads `OTEL_*` (default: this process'). */
  constructor(url: URL, env: NodeJS.ProcessEnv = process.env) {
    this.worker = new Worker(url, { env });
    this.worker.unref();
    this.worker.on('message', (m: FromExportThread) => {
      if (m.error) diag.error(`span export: ${m.error}`);
      this.waiting.get(m.id)?.();
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.worker.on('error', (err) => diag.error('span export thread failed', err));
    this.worker.on('exit', () => {
      this.gone = true;
      for (const done of this.waiting.values()) done();
      this.waiting.clear();
    });
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    const ctx = span.spanContext();
    if ((ctx.traceFlags & TraceFlags.SAMPLED) === 0 || this.gone) return;
    if (this.buffer.length + this.cloned.length >= MAX_BUFFERED) {
      if (this.dropped++ === 0) diag.warn('span export thread is behind: dropping spans');
      return;
    }
    const parent = span.parentSpanContext;
    const status = span.status;
    (jsonSafe(span) ? this.buffer : this.cloned).push([
      span.name,
      span.kind,
      ctx.traceId,
      ctx.spanId,
      ctx.traceFlags,
      ctx.traceState?.serialize(),
      parent?.spanId,
      parent?.isRemote,
      span.startTime,
      span.endTime,
      status.code,
      status.message,
      span.attributes,
      span.droppedAttributesCount,
      span.links.length > 0
        ? span.links.map((l) => [l.context.traceId, l.context.spanId, l.context.traceFlags, l.context.traceState?.serialize(), l.context.isRemote, l.attributes, l.droppedAttributesCount ?? 0])
        : undefined,
      span.droppedLinksCount,
      span.events.length > 0 ? span.events.map((e) => [e.name, e.time, e.attributes, e.droppedAttributesCount ?? 0]) : undefined,
      span.droppedEventsCount,
      this.scopeIndex(span.instrumentationScope),
      this.resourceIndex(span.resource),
    ]);
    if (this.buffer.length + this.cloned.length >= HAND_OFF_SPANS) this.handOff();
    else this.timer ??= setTimeout(() => this.handOff(), HAND_OFF_MS).unref();
  }

  forceFlush(): Promise<void> {
    return this.handOff().then(() => this.request('flush'));
  }

  shutdown(): Promise<void> {
    return this.forceFlush()
      .then(() => this.request('shutdown'))
      .finally(() => this.worker.terminate().then(() => undefined));
  }

  private scopeIndex(scope: InstrumentationScope): number {
    let i = this.scopes.get(scope);
    if (i === undefined) {
      this.scopes.set(scope, (i = this.scopes.size));
      this.newScopes.push([i, [scope.name, scope.version, scope.schemaUrl]]);
    }
    return i;
  }

  private resourceIndex(resource: Resource): number {
    let i = this.resources.get(resource);
    if (i === undefined) {
      this.resources.set(resource, (i = this.resources.size));
      const index = i;
      const add = () => void this.newResources.push([index, [resource.attributes, resource.schemaUrl]]);
      if (resource.asyncAttributesPending && resource.waitForAsyncAttributes) {
        const settled = resource.waitForAsyncAttributes().then(add, add);
        this.pendingResource = this.pendingResource ? Promise.all([this.pendingResource, settled]).then(() => undefined) : settled;
      } else add();
    }
    return i;
  }

  /** Posts the buffered spans (with the scopes and resources they name that the thread has not seen). */
  private handOff(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingResource) {
      // Rare: only while the first spans wait for the resource's detectors.
      const pending = this.pendingResource;
      return pending.then(() => {
        if (this.pendingResource === pending) this.pendingResource = undefined;
        return this.handOff();
      });
    }
    if ((this.buffer.length === 0 && this.cloned.length === 0) || this.gone) return Promise.resolve();
    const msg: ToExportThread = { t: 'spans', spans: this.buffer };
    if (this.newScopes.length > 0) msg.scopes = this.newScopes;
    if (this.newResources.length > 0) msg.resources = this.newResources;
    const cloned = this.cloned;
    this.buffer = [];
    this.cloned = [];
    this.newScopes = [];
    this.newResources = [];
    try {
      // JSON first: it carries the scopes and resources the cloned spans may name too.
      this.worker.postMessage(JSON.stringify(msg));
      if (cloned.length > 0) this.worker.postMessage({ t: 'spans', spans: cloned } satisfies ToExportThread);
    } catch (err) {
      diag.error('could not hand spans to the export thread', err);
    }
    return Promise.resolve();
  }

  private request(t: 'flush' | 'shutdown'): Promise<void> {
    if (this.gone) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.waiting.set(id, resolve);
      // Kept alive while a flush is awaited: nothing else may hold the event loop then.
      this.worker.ref();
      this.worker.postMessage({ t, id } satisfies ToExportThread);
    });
  }
}
