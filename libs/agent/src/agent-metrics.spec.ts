import { newJobId } from '@longshore/domain';
import { gaugesObservedOnly } from '@longshore/telemetry';
import { AggregationTemporality, MeterProvider, MetricReader, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { createAgentMetrics } from './agent-metrics.js';

class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function collected(reader: TestReader) {
  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  return (name: string) => all.find((m) => m.descriptor.name === name);
}

describe('agent metrics', () => {
  it('count starts, re-runs, ends by failure class and lost claims, time waits from the id, and report the room', async () => {
    // As the services' readers: cumulative, gauges reporting only what was observed now.
    const reader = new TestReader({ aggregationTemporalitySelector: gaugesObservedOnly(() => AggregationTemporality.CUMULATIVE) });
    const provider = new MeterProvider({ readers: [reader] });
    let inUse = 250;
    const m = createAgentMetrics(provider.getMeter('t'), { pool: 'p', agent: 'a1' }, () => ({ capacityMilli: 2000, weightInUseMilli: inUse }));
    const created = 1_700_000_000_000;
    m.started({ id: newJobId('p', created), attempt: 1 }, 'subprocess', created + 1500);
    m.started({ id: newJobId('p', created), attempt: 2 }, 'subprocess', created + 9000);
    m.finished({ state: 'succeeded', exitCode: 0, message: '', attempt: { agentId: 'a1', executor: 'subprocess', startedAt: 1000, finishedAt: 3000 } });
    m.finished({ state: 'failed', failureClass: 'exit', exitCode: 3, message: '', attempt: { agentId: 'a1', executor: 'subprocess', startedAt: 1000, finishedAt: 1500, failureClass: 'exit' } });
    m.lostClaim();
    inUse = 750;
    const get = await collected(reader);
    const points = (name: string) => (get(name) as SumMetricData | undefined)?.dataPoints.map((d) => [d.attributes, d.value]);
    expect(points('longshore.jobs.started')).toEqual([[{ pool: 'p', executor: 'subprocess' }, 2]]);
    expect(points('longshore.jobs.reruns')).toEqual([[{ pool: 'p', executor: 'subprocess' }, 1]]);
    expect(points('longshore.jobs.finished')).toEqual([
      [{ pool: 'p', executor: 'subprocess', failure_class: 'none' }, 1],
      [{ pool: 'p', executor: 'subprocess', failure_class: 'exit' }, 1],
    ]);
    expect(points('longshore.jobs.lost_claims')).toEqual([[{ pool: 'p' }, 1]]);
    // One wait sample (the first attempt's), 1.5 s; the re-run adds none.
    const wait = (get('longshore.job.wait_seconds') as HistogramMetricData).dataPoints;
    expect(wait.map((d) => [d.value.count, d.value.sum])).toEqual([[1, 1.5]]);
    const run = (get('longshore.job.run_seconds') as HistogramMetricData).dataPoints;
    expect(run.map((d) => [d.attributes['failure_class'], d.value.sum])).toEqual([
      ['none', 2],
      ['exit', 0.5],
    ]);
    expect(points('longshore.agent.capacity')).toEqual([[{ pool: 'p', agent: 'a1' }, 2]]);
    expect(points('longshore.agent.weight.in_use')).toEqual([[{ pool: 'p', agent: 'a1' }, 0.75]]);
    // Once closed, the agent's gauges are no longer reported.
    m.close();
    const after = await collected(reader);
    expect((after('longshore.agent.capacity') as SumMetricData | undefined)?.dataPoints ?? []).toEqual([]);
    await provider.shutdown();
  });
});
