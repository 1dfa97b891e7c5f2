import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, startTestAgent, useTestAgents } from './spec-helpers.js';

describe('spans of an end recorded again under a claim taken back', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  useTestAgents();
  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    await provider.shutdown();
  });

  it('keep both finish spans children of the attempt span, in its trace', async () => {
    const t = await startTestAgent();
    const id = t.source.add({ weightMilli: 1000 });
    t.events.announce();
    const run = await t.executor.started(id);
    await t.source.adopt(id); // the claim changed under the run (paused past its lease; nobody else took the job)
    run.succeed();
    await settle();
    expect(t.source.finished).toMatchObject([
      { id, result: 'fenced' },
      { id, result: 'ended', outcome: { state: 'succeeded' } },
    ]);
    const spans = exporter.getFinishedSpans();
    const attempt = spans.find((s) => s.name === 'attempt');
    const finishes = spans.filter((s) => s.name === 'finish');
    expect(attempt, 'the attempt span').toBeDefined();
    expect(finishes.map((s) => s.attributes['longshore.recorded'])).toEqual([false, true]);
    for (const f of finishes) {
      expect(f.spanContext().traceId).toBe(attempt!.spanContext().traceId);
      expect(f.parentSpanContext?.spanId).toBe(attempt!.spanContext().spanId);
    }
  });
});
