/**
 * The web console with real data, in headless Chromium (Debian's, through playwright-core):
 *
 * - the jobs page of a pool holding 10,000 queued jobs, from navigation until its first page
 *   (50 rows) is on screen, beside the raw `ListJobs` call the page's API makes (the same
 *   filter and page size, over gRPC from Node), and the console's JSON API for that page;
 * - a job's page with a 100,000-line log, followed, from navigation until the last line is
 *   rendered (and the count says 100,000), beside the raw `StreamJobLogs` read of the same log.
 *
 * Rounds alternate the page and its raw call so a load spike hits both; medians are reported.
 */
import { existsSync } from 'node:fs';
import { startConsoleServer } from '@longshore/console';
import { chromium } from 'playwright-core';
import type { BenchCluster } from './longshore-jobs.js';
import { table, type SummaryRow } from './report.js';
import { median } from './stats.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface ConsoleBenchOptions {
  /** Queued jobs in the listed pool (10,000). */
  jobs: number;
  /** Lines of the followed log (100,000). */
  logLines: number;
  /** Measured rounds of each (after one warm-up). */
  rounds: number;
}

export interface ConsoleBenchResult {
  jobs: number;
  logLines: number;
  rounds: number;
  /** Wall ms per round. */
  jobsPageMs: number[];
  jobsApiMs: number[];
  listJobsMs: number[];
  logPageMs: number[];
  streamLogsMs: number[];
  /** Log rows in the page's DOM once the last line showed (windowed: about a screenful). */
  logRowsInDom: number;
}

const PAGE_SIZE = 50;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function runConsoleBench(bc: BenchCluster, opts: ConsoleBenchOptions): Promise<ConsoleBenchResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install.sh (it installs Debian's chromium)`);
  const { cluster, ls } = bc;
  const tag = Date.now().toString(36);
  const listed = `console-list-${tag}`;
  const logs = `console-log-${tag}`;
  // A pool without agents: its jobs stay queued, which is what the page lists.
  await ls.registry.createPool({ id: listed });
  for (let done = 0; done < opts.jobs; done += 1000) {
    const n = Math.min(1000, opts.jobs - done);
    await ls.submitBatch(Array.from({ length: n }, (_, i) => ({ pool: listed, command: ['true'], labels: { n: String(done + i) } })));
  }
  // One agent runs the job that prints the log; its cap on a job's log holds 100,000 lines of seq.
  await ls.registry.createPool({ id: logs });
  const agent = await cluster.startAgent({ LONGSHORE_POOL: logs, LONGSHORE_AGENT_ID: `${logs}-1`, LONGSHORE_LOG_MAX_BYTES: '8Mi' });
  const env = cluster.clientEnv;
  const server = await startConsoleServer({
    listen: '127.0.0.1:0',
    dispatcher: env['LONGSHORE_DISPATCHER']!,
    registry: env['LONGSHORE_REGISTRY']!,
    env: {},
    logger: { info: () => undefined, warn: () => undefined, error: (o: unknown) => console.error(o) },
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const job = await ls.submit({ pool: logs, command: ['seq', '1', String(opts.logLines)] });
    const done = await ls.waitForJob(job.id);
    if (done.logTruncated) throw new Error(`the ${opts.logLines}-line log was truncated at the agent's log cap`);

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.loginLink(env['LONGSHORE_TOKEN']!));
    await page.locator('.who').waitFor();
    const token = env['LONGSHORE_TOKEN']!;

    const jobsPage = () =>
      timed(async () => {
        // A fresh page load each time (the tab keeps its sign-in in sessionStorage).
        await page.goto('about:blank');
        await page.goto(`${server.url}#/jobs?pool=${listed}`);
        await page.locator(`table.jobs tbody tr:nth-child(${PAGE_SIZE})`).waitFor({ timeout: 120_000 });
      });
    const jobsApi = () =>
      timed(async () => {
        const res = await fetch(new URL(`/api/jobs?pool=${listed}&pageSize=${PAGE_SIZE}`, server.url), { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { jobs: unknown[] };
        if (body.jobs.length !== PAGE_SIZE) throw new Error(`the console API gave ${body.jobs.length} jobs, not ${PAGE_SIZE}`);
      });
    const listJobs = () =>
      timed(async () => {
        const res = await ls.dispatcher.listJobs({ pool: listed, pageSize: PAGE_SIZE });
        if (res.jobs.length !== PAGE_SIZE) throw new Error(`ListJobs gave ${res.jobs.length} jobs, not ${PAGE_SIZE}`);
      });
    let logRowsInDom = 0;
    const logPage = () =>
      timed(async () => {
        await page.goto('about:blank');
        await page.goto(`${server.url}#/jobs/${job.id}`);
        await page.locator(`.log-box[data-total="${opts.logLines}"] .log-row[data-line="${opts.logLines}"]`).waitFor({ timeout: 300_000 });
        logRowsInDom = await page.locator('.log-row').count();
      });
    const streamLogs = () =>
      timed(async () => {
        let n = 0;
        for await (const line of ls.logs(job.id, { follow: true })) {
          void line;
          n++;
        }
        if (n !== opts.logLines) throw new Error(`StreamJobLogs gave ${n} lines, not ${opts.logLines}`);
      });

    const r: ConsoleBenchResult = { jobs: opts.jobs, logLines: opts.logLines, rounds: opts.rounds, jobsPageMs: [], jobsApiMs: [], listJobsMs: [], logPageMs: [], streamLogsMs: [], logRowsInDom: 0 };
    for (const f of [listJobs, jobsApi, jobsPage, streamLogs, logPage]) await f(); // warm-up
    for (let i = 0; i < opts.rounds; i++) {
      r.listJobsMs.push(await listJobs());
      r.jobsApiMs.push(await jobsApi());
      r.jobsPageMs.push(await jobsPage());
      r.streamLogsMs.push(await streamLogs());
      r.logPageMs.push(await logPage());
    }
    r.logRowsInDom = logRowsInDom;
    return r;
  } finally {
    await browser.close();
    await server.close();
    await agent.stop(10_000);
    // The listed jobs would otherwise sit in Redis for the benchmarks after this one.
    await ls.registry.deletePool({ id: listed, force: true }).catch(() => undefined);
  }
}

const ms = (v: number) => `${v.toFixed(0)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;

/** Medians side by side: each page against the raw API call it is built on. */
export function formatConsoleBench(r: ConsoleBenchResult): string {
  const list = median(r.listJobsMs);
  const logs = median(r.streamLogsMs);
  return [
    `Console in headless Chromium (median of ${r.rounds}; ratio to the raw gRPC call)`,
    table(
      ['what', 'median', 'ratio'],
      [
        [`ListJobs, ${PAGE_SIZE} of ${r.jobs.toLocaleString('en-US')} queued (gRPC)`, ms(list), '1.0×'],
        ['GET /api/jobs, the same page (console API)', ms(median(r.jobsApiMs)), ratio(median(r.jobsApiMs), list)],
        ['jobs page: load until 50 rows shown', ms(median(r.jobsPageMs)), ratio(median(r.jobsPageMs), list)],
        [`StreamJobLogs, ${r.logLines.toLocaleString('en-US')} lines (gRPC)`, ms(logs), '1.0×'],
        ['job page: load until the last log line shown', ms(median(r.logPageMs)), ratio(median(r.logPageMs), logs)],
      ],
    ),
    `log rows in the DOM at the end: ${r.logRowsInDom} of ${r.logLines.toLocaleString('en-US')} (windowed)`,
  ].join('\n');
}

export function consoleBenchSummary(r: ConsoleBenchResult): SummaryRow[] {
  return [
    { benchmark: 'console', metric: `jobs page, ${r.jobs} jobs in the pool (median)`, value: `${ms(median(r.jobsPageMs))} (${ratio(median(r.jobsPageMs), median(r.listJobsMs))} ListJobs)`, goal: '', met: null },
    { benchmark: 'console', metric: `job page, ${r.logLines}-line log followed (median)`, value: `${ms(median(r.logPageMs))} (${ratio(median(r.logPageMs), median(r.streamLogsMs))} StreamJobLogs)`, goal: `${r.logRowsInDom} rows in the DOM`, met: null },
  ];
}
