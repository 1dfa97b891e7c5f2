/**
 * The README's screenshot of the web console: brings up a local cluster (a private Redis, the
 * registry, the dispatcher and three agents, from @longshore/testing), gives it a few pools and
 * jobs that are running, queued, finished and failed, opens the console in headless Chromium at
 * 1280×800 and writes docs/console.png (the pools page) and docs/console-agents.png.
 *
 *   npm run build && npx tsx --conditions=@longshore/source test/bench/console-screenshot.ts
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LongshoreClient } from '@longshore/client';
import { startConsoleServer } from '@longshore/console';
import { repoRoot, startCluster, waitFor } from '@longshore/testing';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './console.js';

const DOCS = join(repoRoot, 'docs');

const cluster = await startCluster({
  agents: [
    { LONGSHORE_AGENT_ID: 'agent-a', LONGSHORE_LANES: 'ingestion=4' },
    { LONGSHORE_AGENT_ID: 'agent-b' },
  ],
});
const ls = LongshoreClient.connect({ env: cluster.clientEnv });
await ls.registry.createPool({ id: 'ingest-eu', description: 'EU ingestion, 8 GiB hosts', defaultWeightMilli: 500, maxWeightMilli: 2000 });
await ls.registry.createPool({ id: 'reports', description: 'nightly reports (no agents yet)' });
const extra = await cluster.startAgent({ LONGSHORE_POOL: 'ingest-eu', LONGSHORE_AGENT_ID: 'ingest-eu-1', LONGSHORE_CAPACITY: '2' });
const env = cluster.clientEnv;
const server = await startConsoleServer({ listen: '127.0.0.1:0', dispatcher: env['LONGSHORE_DISPATCHER']!, registry: env['LONGSHORE_REGISTRY']!, env: {}, logger: { info: () => undefined, warn: () => undefined, error: (o: unknown) => console.error(o) } });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
try {
  // Finished jobs, one failed, for the jobs list; then long ones that fill the agents.
  for (const cmd of [['sh', '-c', 'echo loaded 1200 rows'], ['sh', '-c', 'echo schema mismatch >&2; exit 2']]) await ls.waitForJob((await ls.submit({ command: cmd, labels: { team: 'data' } })).id);
  const running = [
    { command: ['sleep', '600'], weightMilli: 500, labels: { team: 'data' } },
    { command: ['sleep', '600'], weightMilli: 250, lane: 'ingestion', labels: { team: 'ml' } },
    { command: ['sleep', '600'], weightMilli: 125, labels: { team: 'ml' } },
    { command: ['sleep', '600'], weightMilli: 750 },
    { pool: 'ingest-eu', command: ['sleep', '600'], weightMilli: 1000 },
    { pool: 'ingest-eu', command: ['sleep', '600'], weightMilli: 500 },
  ];
  for (const spec of running) await ls.submit(spec);
  for (let i = 0; i < 3; i++) await ls.submit({ pool: 'reports', command: ['make', 'report'], labels: { night: 'monday' } });
  await waitFor(async () => (await ls.registry.listPools({})).pools.reduce((sum, p) => sum + Number(p.status?.jobsRunning ?? 0n), 0) === running.length, { timeoutMs: 60_000, what: 'the jobs to run' });

  mkdirSync(DOCS, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.loginLink(env['LONGSHORE_TOKEN']!));
  await page.locator('[data-pool="ingest-eu"] .badge').waitFor();
  await page.screenshot({ path: join(DOCS, 'console.png') });
  await page.goto(`${server.url}#/agents`);
  await page.locator('tr[data-agent="agent-a"] a.seg').first().waitFor();
  await page.screenshot({ path: join(DOCS, 'console-agents.png') });
  console.log(`wrote ${join(DOCS, 'console.png')} and console-agents.png`);
} finally {
  await browser.close();
  await server.close();
  await extra.stop();
  ls.close();
  await cluster.stop();
}
