/**
 * Submitting a benchmark's jobs to Longshore and reading their records back, through the
 * public client API and the cluster fixture only (so the benchmark outlives changes to how
 * agents claim).
 */
import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { isFinished, JobView, type Job, type JobSpecInit, type LongshoreClient } from '@longshore/client';
import { sleep, type Cluster } from '@longshore/testing';
import type { Interval } from './stats.js';

/** A shared cluster (started with no agents) and a client of it. */
export interface BenchCluster {
  cluster: Cluster;
  ls: LongshoreClient;
}

/** SubmitJobs accepts at most this many specs per call. */
const SUBMIT_BATCH = 1000;
const PAGE_SIZE = 500;
/** Between two full listings while waiting, whatever the pool's counts say (listings load the dispatcher). */
const RELIST_MS = 15_000;

/**
 * Creates pool `pool` and starts `agents` agents of `capacity` serving it, in parallel.
 * Resolves with a function that stops them (the cluster's own stop would, too, later).
 */
/** A benchmark's agents: their pids (to read their CPU) and how to stop them. */
export interface BenchPool {
  pids: number[];
  stop(): Promise<void>;
}

export async function startPool(bc: BenchCluster, pool: string, agents: number, capacity: string): Promise<BenchPool> {
  await bc.ls.registry.createPool({ id: pool, maxWeightMilli: 1000 });
  const handles = await Promise.all(
    Array.from({ length: agents }, (_, i) =>
      bc.cluster.startAgent({ LONGSHORE_POOL: pool, LONGSHORE_AGENT_ID: `${pool}-${i + 1}`, LONGSHORE_CAPACITY: capacity }),
    ),
  );
  return { pids: handles.map((h) => h.pid), stop: async () => void (await Promise.all(handles.map((h) => h.stop(10_000)))) };
}

export interface Submitted {
  pool: string;
  /** The label every job of this run carries (`bench=<label>`), to list them back. */
  label: string;
  /** Just before the first submit call. */
  firstSubmitMs: number;
  count: number;
}

export interface SubmitOptions {
  pool: string;
  label: string;
  /** Submit one job at a time (SubmitJob), pausing this long after each; default: batches of 1000. */
  paceMs?: number;
}

/** Submits `specs` into `pool`, each labelled `bench=<label>`. */
export async function submitAll(ls: LongshoreClient, specs: readonly JobSpecInit[], opts: SubmitOptions): Promise<Submitted> {
  const labelled = specs.map((s) => ({ ...s, pool: opts.pool, labels: { ...s.labels, bench: opts.label } }));
  const firstSubmitMs = Date.now();
  if (opts.paceMs === undefined) {
    for (let i = 0; i < labelled.length; i += SUBMIT_BATCH) {
      // Only the ids are needed, as with addBulk's jobs: the basic view.
      await ls.dispatcher.submitJobs({ specs: labelled.slice(i, i + SUBMIT_BATCH), view: JobView.BASIC });
    }
  } else {
    for (const spec of labelled) {
      await ls.submit(spec);
      await sleep(opts.paceMs);
    }
  }
  return { pool: opts.pool, label: opts.label, firstSubmitMs, count: specs.length };
}

/** Every record labelled `bench=<label>`, page by page. */
export async function listAll(ls: LongshoreClient, label: string): Promise<Job[]> {
  const out: Job[] = [];
  let pageToken = '';
  // Each page scans a bounded slice of the store, so allow many (possibly empty) pages.
  for (let page = 0; page < 10_000; page++) {
    const res = await ls.dispatcher.listJobs({ labels: { bench: label }, pageSize: PAGE_SIZE, pageToken });
    out.push(...res.jobs);
    pageToken = res.nextPageToken;
    if (!pageToken) return out;
  }
  throw new Error(`listing jobs labelled bench=${label} did not end after 10000 pages`);
}

/**
 * Waits until every job of `run` has reached a final state, or `timeoutMs` passed, and
 * returns the records as they are then (an incomplete run has unfinished ones).
 * The pool's queued/running counts are the cheap signal; a listing confirms. `onIdle` is called
 * each time the counts say the pool is idle, before that listing.
 */
export async function waitForAll(ls: LongshoreClient, run: Submitted, timeoutMs: number, onIdle?: () => void): Promise<Job[]> {
  const deadline = Date.now() + timeoutMs;
  let listedAt = Date.now();
  for (;;) {
    const status = (await ls.registry.getPool({ id: run.pool })).pool?.status;
    const idle = status !== undefined && status.jobsQueued + status.jobsRunning === 0n;
    if (idle) onIdle?.();
    const last = Date.now() >= deadline;
    if (idle || last || Date.now() - listedAt >= RELIST_MS) {
      listedAt = Date.now();
      const jobs = await listAll(ls, run.label);
      if (last || (jobs.length >= run.count && jobs.every(isFinished))) return jobs;
    }
    await sleep(200);
  }
}

function ms(t: Timestamp | undefined): number {
  return t ? timestampMs(t) : NaN;
}

/** Every attempt that both started and finished, as an interval on its agent. */
export function runsOf(jobs: readonly Job[]): Interval[] {
  return jobs.flatMap((j) =>
    j.attempts
      .filter((a) => a.startedAt && a.finishedAt)
      .map((a) => ({ worker: a.agentId, startMs: ms(a.startedAt), endMs: ms(a.finishedAt), weightMilli: j.weightMilli })),
  );
}

/** Record created → first attempt started, in ms, for every job that started. */
export function startLatencies(jobs: readonly Job[]): number[] {
  return jobs.flatMap((j) => {
    const started = j.attempts.find((a) => a.startedAt)?.startedAt;
    return started ? [ms(started) - ms(j.createdAt)] : [];
  });
}

/** The latest `finishedAt` of the finished records (NaN for none). */
export function lastFinishMs(jobs: readonly Job[]): number {
  const ends = jobs.filter(isFinished).map((j) => ms(j.finishedAt));
  return ends.length === 0 ? NaN : ends.reduce((a, b) => Math.max(a, b));
}
