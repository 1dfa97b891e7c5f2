import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { JobState, type LongshoreClient } from '@longshore/client';
import { startConsoleServer, type ConsoleServer } from '@longshore/console';
import { repoRoot, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'test', 'artifacts');
const HOSTILE = '<img src=x onerror=alert(1)>';

// Under CI=true a missing browser fails the run; elsewhere the suite says why it skipped.
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: run scripts/install.sh (it installs Debian's chromium)`);

describe.skipIf(!haveChromium)('web console in headless Chromium against a real cluster', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    // agent-2 finishes its jobs for up to a minute when drained, so its draining state lasts.
    const agents = [{ LONGSHORE_AGENT_ID: 'agent-1' }, { LONGSHORE_AGENT_ID: 'agent-2', LONGSHORE_SHUTDOWN_GRACE: '60s' }];
    cluster = await startCluster({ agents, env: { LONGSHORE_LOG_MAX_BYTES: '4Mi', LONGSHORE_SUBMIT_RATE: '100000/s' } });
    ls = connect(cluster);
    const env = cluster.clientEnv;
    const logger = { info: () => undefined, warn: () => undefined, error: (o: unknown) => console.error(o) };
    server = await startConsoleServer({ listen: '127.0.0.1:0', dispatcher: env['LONGSHORE_DISPATCHER']!, registry: env['LONGSHORE_REGISTRY']!, env: {}, logger });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    // The one-time link `longshore up` prints signs this tab in as the admin.
    await page.goto(server.loginLink(env['LONGSHORE_TOKEN']!));
    await page.locator('.who').filter({ hasText: '(admin)' }).waitFor();
    expect(page.url()).not.toContain('login='); // the code left the address bar
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    ls?.close();
    await cluster?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  const openJob = async (id: string) => {
    await page.goto(`${server.url}#/jobs/${id}`);
    await page.locator('.job-state').waitFor();
  };

  it('shows the pools and creates one from the form', async () => {
    await page.goto(`${server.url}#/pools`);
    const def = page.locator('[data-pool="default"]');
    await expect(def.locator('.chip.default').textContent()).resolves.toBe('default');
    await expect(def.locator('.badge').textContent()).resolves.toBe('healthy');
    await page.getByLabel('Pool id').fill('web-made');
    await page.getByLabel('Default weight').fill('0.5');
    await page.getByRole('button', { name: 'Create pool' }).click();
    const made = page.locator('[data-pool="web-made"]');
    await made.waitFor();
    await expect(made.textContent()).resolves.toContain('default 0.5, at most 1');
    expect((await ls.registry.getPool({ id: 'web-made' })).pool?.defaultWeightMilli).toBe(500);
    // The API's own message for a bad id reaches the page.
    await page.getByLabel('Pool id').fill('Bad_Id');
    await page.getByLabel('Pool id').evaluate((el) => el.removeAttribute('pattern'));
    await page.getByRole('button', { name: 'Create pool' }).click();
    await expect(page.locator('form[aria-label="create a pool"] .error').textContent()).resolves.toMatch(/Bad_Id/);
    await shot('pools');
  });

  it('edits a pool with the API\'s rules and messages, and sets the default', async () => {
    await page.goto(`${server.url}#/pools`);
    const card = page.locator('[data-pool="web-made"]');
    await card.getByRole('button', { name: 'Edit' }).click();
    const form = card.locator('form.edit-pool');
    await form.getByLabel('Largest weight').fill('2');
    await form.getByRole('button', { name: 'Save' }).click();
    await card.locator('dd', { hasText: 'default 0.5, at most 2' }).waitFor();
    expect((await ls.registry.getPool({ id: 'web-made' })).pool?.maxWeightMilli).toBe(2000);
    // Nothing changed: the API's own message says what to do.
    await card.getByRole('button', { name: 'Edit' }).click();
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(form.locator('.error').textContent()).resolves.toMatch(/^update_mask: name the fields to change/);
    // A default above the largest weight: refused by the API, with its message.
    await form.getByLabel('Default weight').fill('3');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(form.locator('.error').textContent()).resolves.toMatch(/default_weight_milli|max_weight_milli/);
    expect((await ls.registry.getPool({ id: 'web-made' })).pool?.defaultWeightMilli).toBe(500);
    await form.getByRole('button', { name: 'Close' }).click();
    // Make it the default, then the old default again.
    await card.getByRole('button', { name: 'Make default' }).click();
    await card.locator('.chip.default').waitFor();
    expect((await ls.registry.getPool({ id: 'web-made' })).pool?.isDefault).toBe(true);
    await page.locator('[data-pool="default"]').getByRole('button', { name: 'Make default' }).click();
    await page.locator('[data-pool="default"] .chip.default').waitFor();
  });

  it('sets a pool\'s standard agent and secrets allow-list, as pools create/update --standard/--secrets do', async () => {
    const GI = 1024n ** 3n;
    await page.goto(`${server.url}#/pools`);
    const create = page.locator('form[aria-label="create a pool"]');
    await create.getByLabel('Pool id').fill('web-std');
    await create.getByLabel(/^Standard agent/).fill('cpus=2,memory=4Gi');
    await create.getByLabel(/^Secrets/).fill('ingest_*');
    await create.getByRole('button', { name: 'Create pool' }).click();
    const card = page.locator('[data-pool="web-std"]');
    await card.locator('dd.standard', { hasText: 'cpus=2,memory=4Gi' }).waitFor();
    await expect(card.locator('dd.secrets').textContent()).resolves.toBe('ingest_*');
    let pool = (await ls.registry.getPool({ id: 'web-std' })).pool!;
    expect(pool.standard).toMatchObject({ cpusMilli: 2000, memoryBytes: 4n * GI });
    expect(pool.secrets).toEqual(['ingest_*']);

    // Edit each: the form starts with the pool's values.
    await card.getByRole('button', { name: 'Edit' }).click();
    const form = card.locator('form.edit-pool');
    await expect(form.getByLabel(/^Standard agent/).inputValue()).resolves.toBe('cpus=2,memory=4Gi');
    await form.getByLabel(/^Standard agent/).fill('cpus=4,memory=8Gi');
    await form.getByRole('button', { name: 'Save' }).click();
    await card.locator('dd.standard', { hasText: 'cpus=4,memory=8Gi' }).waitFor();
    pool = (await ls.registry.getPool({ id: 'web-std' })).pool!;
    expect(pool.standard).toMatchObject({ cpusMilli: 4000, memoryBytes: 8n * GI });
    expect(pool.secrets).toEqual(['ingest_*']); // only what changed was sent
    await card.getByRole('button', { name: 'Edit' }).click();
    await form.getByLabel(/^Secrets/).fill('ingest_*, DB_PASSWORD');
    await form.getByRole('button', { name: 'Save' }).click();
    await card.locator('dd.secrets', { hasText: 'ingest_*, DB_PASSWORD' }).waitFor();
    expect((await ls.registry.getPool({ id: 'web-std' })).pool?.secrets).toEqual(['ingest_*', 'DB_PASSWORD']);

    // Refused values, with the messages the CLI and the API give.
    await card.getByRole('button', { name: 'Edit' }).click();
    await form.getByLabel(/^Secrets/).fill('ingest_*, ../x');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(form.locator('.error').textContent()).resolves.toBe('secrets: "../x" is not a secret name or pattern: use letters, digits, _ and * (e.g. ingest_*,DB_PASSWORD)');
    await form.getByLabel(/^Secrets/).fill('ingest_*, DB_PASSWORD');
    await form.getByLabel(/^Standard agent/).fill('gpus=1');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(form.locator('.error').textContent()).resolves.toMatch(/^standard: unknown key "gpus": a standard agent has cpus and memory/);
    await shot('pool-standard-secrets');
    pool = (await ls.registry.getPool({ id: 'web-std' })).pool!;
    expect(pool.standard).toMatchObject({ cpusMilli: 4000, memoryBytes: 8n * GI });
    expect(pool.secrets).toEqual(['ingest_*', 'DB_PASSWORD']);

    // Emptied: no standard (weights are admission only), and any secret.
    await form.getByLabel(/^Standard agent/).fill('');
    await form.getByLabel(/^Secrets/).fill('');
    await form.getByRole('button', { name: 'Save' }).click();
    await card.locator('dd.standard', { hasText: 'none (weights are admission only)' }).waitFor();
    await expect(card.locator('dd.secrets').textContent()).resolves.toBe('any');
    pool = (await ls.registry.getPool({ id: 'web-std' })).pool!;
    expect(pool.standard).toBeUndefined();
    expect(pool.secrets).toEqual([]);
    await ls.registry.deletePool({ id: 'web-std' });
  });

  it('deletes a pool: the default is refused with the API\'s message, queued jobs only by force', async () => {
    await page.goto(`${server.url}#/pools`);
    const def = page.locator('[data-pool="default"]');
    await def.getByRole('button', { name: 'Delete…' }).click();
    await def.getByRole('button', { name: 'Delete default' }).click();
    await expect(def.locator('.error').textContent()).resolves.toMatch(/is the default pool and cannot be deleted/);
    await def.getByRole('button', { name: 'Keep it' }).click();
    await ls.submit({ pool: 'web-made', command: ['true'] }); // no agents there: it stays queued
    const card = page.locator('[data-pool="web-made"]');
    await card.locator('a', { hasText: '1 queued' }).waitFor();
    await card.getByRole('button', { name: 'Delete…' }).click();
    await card.getByRole('button', { name: 'Delete web-made' }).click();
    await expect(card.locator('.error').textContent()).resolves.toMatch(/has 1 queued job\(s\)/);
    await card.getByRole('button', { name: 'Delete and cancel its 1 queued job' }).click();
    await card.waitFor({ state: 'detached' });
    expect((await ls.registry.listPools({})).pools.map((p) => p.id)).not.toContain('web-made');
  });

  it('shows a pool\'s active reservation: which job, since when', async () => {
    await ls.registry.createPool({ id: 'reserving' });
    const agent = await cluster.startAgent({ LONGSHORE_POOL: 'reserving', LONGSHORE_AGENT_ID: 'agent-r', LONGSHORE_RESERVE_AFTER: '1s' });
    try {
      const light = await ls.submit({ pool: 'reserving', command: ['sleep', '120'], weightMilli: 500 });
      await waitFor(async () => (await ls.getJob(light.id)).state === JobState.RUNNING, { timeoutMs: 60_000 });
      // A full-weight job cannot fit beside it: after a second the agent reserves room for it.
      const heavy = await ls.submit({ pool: 'reserving', command: ['true'], weightMilli: 1000 });
      await waitFor(async () => (await ls.registry.getPool({ id: 'reserving' })).pool?.status?.reservation?.jobId === heavy.id, { timeoutMs: 60_000 });
      await page.goto(`${server.url}#/pools`);
      const r = page.locator('[data-pool="reserving"] .reservation');
      await r.waitFor();
      await expect(r.locator('a').textContent()).resolves.toBe(heavy.id);
      await expect(r.textContent()).resolves.toMatch(/\(weight 1\) since \d[\dms. ]*ago on agent-r$/);
      await expect(r.locator('time').getAttribute('title')).resolves.toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
      await shot('reservation');
      await ls.dispatcher.cancelJob({ id: light.id });
      await ls.waitForJob(heavy.id);
    } finally {
      await agent.stop();
    }
  });

  it('submits a job from the form and shows its log lines live, before it ends', async () => {
    await page.goto(`${server.url}#/submit`);
    await page.getByLabel(/^Command/).fill('sh\n-c\necho first line; sleep 6; echo last line');
    await page.getByLabel(/^Labels/).fill('made-by=console-test');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/#\/jobs\/[^/]+$/);
    const id = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    await page.locator('.log-row', { hasText: 'first line' }).waitFor();
    // The first line is on the page while the job still runs.
    expect((await ls.getJob(id)).state).toBe(JobState.RUNNING);
    expect(await page.locator('.log-row', { hasText: 'last line' }).count()).toBe(0);
    await shot('job-running');
    await page.locator('.log-row', { hasText: 'last line' }).waitFor();
    await page.locator('.job-state .badge', { hasText: 'succeeded' }).waitFor();
    await expect(page.locator('table.attempts tbody tr').count()).resolves.toBe(1);
    const job = await ls.getJob(id);
    expect(job.spec?.labels).toEqual({ 'made-by': 'console-test' });
  });

  it('shows a hostile log line as text, never as markup', async () => {
    const job = await ls.submit({ command: ['printf', '%s\\n', HOSTILE], labels: { note: HOSTILE } });
    await ls.waitForJob(job.id);
    await openJob(job.id);
    const row = page.locator('.log-row', { hasText: HOSTILE });
    await row.waitFor();
    await expect(row.textContent()).resolves.toBe(HOSTILE);
    await expect(page.locator('.labels .chip', { hasText: `note=${HOSTILE}` }).count()).resolves.toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('cancels a running job', async () => {
    const job = await ls.submit({ command: ['sleep', '60'] });
    await waitFor(async () => (await ls.getJob(job.id)).state === JobState.RUNNING, { timeoutMs: 60_000 });
    await openJob(job.id);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.job-state .badge', { hasText: 'cancelled' }).waitFor();
    expect((await ls.getJob(job.id)).state).toBe(JobState.CANCELLED);
  });

  it('retries a failed job', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'echo attempt; exit 3'] });
    await ls.waitForJob(job.id);
    await openJob(job.id);
    await page.locator('.job-state', { hasText: 'exit code 3' }).waitFor();
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('table.attempts tbody tr').nth(1).waitFor();
    const again = await ls.waitForJob(job.id);
    expect(again.attempts.length).toBe(2);
    await page.locator('.log-row', { hasText: 'attempt' }).nth(1).waitFor();
  });

  it('drains an agent and shows its state change', async () => {
    // A full-weight job on each agent: drained, agent-2 stays draining while its job runs.
    const ours = (await Promise.all([1, 2].map(() => ls.submit({ command: ['sleep', '20'], weightMilli: 1000 })))).map((j) => j.id);
    // One of these two on agent-2, alone: a job of an earlier test (the form's `sleep 6`, weight
    // 0.25) may still hold it on a slow machine, and is not the one this test reads back.
    const running = await waitFor(async () => {
      const ids = (await ls.registry.listAgents({})).agents.find((a) => a.id === 'agent-2')?.runningJobIds ?? [];
      return ids.length === 1 && ours.includes(ids[0]!) ? ids[0]! : undefined;
    }, { timeoutMs: 60_000 });
    await page.goto(`${server.url}#/agents`);
    const row = page.locator('tr[data-agent="agent-2"]');
    await expect(row.locator('.agent-state').textContent()).resolves.toBe('active');
    // Its capacity bar is made of the job that fills it, by weight, linking to the job.
    const seg = row.locator('.bar.segmented a.seg');
    await seg.waitFor();
    await expect(seg.getAttribute('aria-label')).resolves.toBe(`job ${running}, weight 1`);
    await expect(seg.getAttribute('href')).resolves.toBe(`#/jobs/${running}`);
    await expect(row.locator('.running li').textContent()).resolves.toBe(`${running} 1`);
    await row.getByRole('button', { name: 'Drain' }).click();
    await row.locator('.agent-state', { hasText: 'draining' }).waitFor();
    await shot('agents');
  });

  it('renders a 100,000-line log windowed: every line counted, a screenful in the DOM', async () => {
    const job = await ls.submit({ command: ['seq', '1', '100000'] });
    await ls.waitForJob(job.id);
    await openJob(job.id);
    const box = page.locator('.log-box');
    await page.locator('.log-box[data-total="100000"]').waitFor({ timeout: 120_000 });
    const rows = await page.locator('.log-row').count();
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(120);
    // Following: the view sits at the end of the log.
    await page.locator('.log-row[data-line="100000"]').waitFor();
    await expect(page.locator('.log-status').textContent()).resolves.toMatch(/^100,000 lines/); // as people read numbers
    await expect(page.locator('.log-row[data-line="100000"]').textContent()).resolves.toBe('100000');
    // Scrolled to the top, the first lines are rendered instead, and still only a screenful.
    await box.evaluate((el) => el.scrollTo(0, 0));
    await page.locator('.log-row[data-line="1"]').waitFor();
    expect(await page.locator('.log-row').count()).toBeLessThan(120);
  });

  it('pages 10,000 jobs on the server and filters them', async () => {
    await ls.registry.createPool({ id: 'paged' }); // no agents: its jobs wait, which is what we list
    for (let b = 0; b < 10; b++) {
      await ls.submitBatch(Array.from({ length: 1000 }, (_, i) => ({ pool: 'paged', command: ['true'], labels: { batch: String(b), n: String(i) } })));
    }
    await page.goto(`${server.url}#/jobs?pool=paged`);
    await page.locator('.page-number', { hasText: 'Page 1' }).waitFor();
    await waitFor(async () => (await page.locator('table.jobs tbody tr').count()) === 50, { timeoutMs: 60_000 });
    const first = await page.locator('table.jobs tbody tr').first().getAttribute('data-job');
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.locator('.page-number', { hasText: 'Page 2' }).waitFor();
    await waitFor(async () => (await page.locator('table.jobs tbody tr').first().getAttribute('data-job')) !== first, { timeoutMs: 60_000 });
    expect(await page.locator('table.jobs tbody tr').count()).toBe(50);
    // A label filter narrows it on the server: one job has batch=3, n=7.
    await page.goto(`${server.url}#/jobs?pool=paged&label=batch%3D3&label=n%3D7`);
    await waitFor(async () => (await page.locator('table.jobs tbody tr').count()) === 1, { timeoutMs: 60_000 });
    await expect(page.locator('table.jobs tbody tr .labels').textContent()).resolves.toContain('batch=3');
    await shot('jobs');
    await page.setViewportSize({ width: 420, height: 800 });
    await shot('jobs-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('is keyboard-navigable: a skip link first, the header in order, Enter and Space on controls', async () => {
    await page.goto(`${server.url}#/pools`);
    await page.reload(); // a fresh page: nothing focused yet
    await page.locator('[data-pool="default"]').waitFor();
    const focused = () => page.evaluate(() => ({ text: document.activeElement?.textContent?.trim() ?? '', id: document.activeElement?.id ?? '', inMain: !!document.activeElement?.closest('main') }));
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      order.push((await focused()).text);
    }
    expect(order).toEqual(['Skip to content', 'Longshore', 'Pools', 'Agents', 'Jobs', 'Submit', 'Sign out']);
    // The skip link takes the focus to the content, and the next Tab stays in it.
    await page.reload();
    await page.locator('[data-pool="default"]').waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await focused()).toMatchObject({ id: 'content' });
    expect(page.url()).toMatch(/#\/pools$/); // the route stayed
    await page.keyboard.press('Tab');
    expect((await focused()).inMain).toBe(true);
    // Enter on a section link opens it and puts the focus on its content.
    await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Jobs' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/jobs$/);
    await waitFor(async () => (await focused()).id === 'content', { timeoutMs: 10_000 });
    // Enter and Space on buttons.
    await page.goto(`${server.url}#/pools`);
    const card = page.locator('[data-pool="default"]');
    await card.getByRole('button', { name: 'Edit' }).focus();
    await page.keyboard.press('Enter');
    await card.locator('form.edit-pool').waitFor();
    await card.getByRole('button', { name: 'Close' }).focus();
    await page.keyboard.press('Space');
    await card.locator('form.edit-pool').waitFor({ state: 'detached' });
  });

  it('is readable at 1280×800 and on a 420 px wide window: nothing wider than the window', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'echo readable'], labels: { team: 'data' } });
    await ls.waitForJob(job.id);
    const pages: [string, string][] = [
      ['pools', '[data-pool="default"]'],
      ['agents', 'tr[data-agent="agent-1"]'],
      ['jobs', 'table.jobs tbody tr'],
      [`jobs/${job.id}`, '.log-row'],
      ['submit', 'form[aria-label="submit a job"]'],
    ];
    for (const [width, height] of [[1280, 800], [420, 800]] as const) {
      await page.setViewportSize({ width, height });
      for (const [path, ready] of pages) {
        await page.goto(`${server.url}#/${path}`);
        await page.locator(ready).first().waitFor();
        const { over, widest } = await page.evaluate(() => {
          const limit = document.documentElement.clientWidth;
          // The outermost elements that reach past the window, to say what to fix.
          const past = Array.from(document.querySelectorAll('body *')).filter((el) => el.getBoundingClientRect().right > limit + 0.5 && !el.parentElement?.closest('.table-wrap, .log-box'));
          return { over: document.documentElement.scrollWidth - limit, widest: past.slice(0, 3).map((el) => `${el.tagName.toLowerCase()}.${el.className}`) };
        });
        expect(over, `#/${path} at ${width} px is ${over} px wider than the window (${widest.join(', ')})`).toBeLessThanOrEqual(0);
        await shot(`${path.startsWith('jobs/') ? 'job' : path}-${width}`);
      }
    }
    // Narrow, a table is one block per row, each cell with its column's name.
    await page.goto(`${server.url}#/jobs`);
    const cell = page.locator('table.jobs tbody tr td').first();
    await cell.waitFor();
    await expect(cell.evaluate((el) => getComputedStyle(el, '::before').content)).resolves.toBe('"Job"');
    await expect(page.locator('table.jobs thead').evaluate((el) => el.getBoundingClientRect().height)).resolves.toBeLessThanOrEqual(1);
    await page.setViewportSize({ width: 1280, height: 800 });
    await expect(cell.evaluate((el) => getComputedStyle(el, '::before').content)).resolves.toBe('none');
  });

  it('lets a reader token look but not change anything', async () => {
    const reader = await cluster.createToken('reader', 'console-reader');
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    try {
      await p.goto(server.url);
      await p.getByLabel('Token').fill(reader);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.locator('.who').filter({ hasText: '(reader)' }).waitFor();
      await p.locator('[data-pool="default"]').waitFor();
      expect(await p.getByRole('button', { name: 'Create pool' }).count()).toBe(0);
      // The console holds no rights of its own: the reader's POST is refused by the cluster.
      const res = await p.evaluate(async (token) => {
        const r = await fetch('/api/pools', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'by-reader' }) });
        return { status: r.status, body: (await r.json()) as { error: { message: string } } };
      }, reader);
      expect(res.status).toBe(403);
      expect(res.body.error.message.length).toBeGreaterThan(0);
      // And without a token at all, the API asks to sign in.
      expect((await fetch(new URL('/api/pools', server.url))).status).toBe(401);
    } finally {
      await ctx.close();
    }
  });

  // Last: it stops the cluster's services.
  it('says which service it cannot reach when the cluster stops under an open page, never a blank page or a stack', async () => {
    const registry = cluster.clientEnv['LONGSHORE_REGISTRY']!;
    const dispatcher = cluster.clientEnv['LONGSHORE_DISPATCHER']!;
    // A job still running when the dispatcher goes, whose log page stays open.
    const running = await ls.submit({ command: ['sh', '-c', 'echo before-outage; exec sleep 600'] });
    await page.goto(`${server.url}#/pools`);
    await page.locator('[data-pool="default"]').waitFor();
    await cluster.registry.stop();
    // The open pools page keeps what it showed, with a message naming the registry.
    const poolsError = page.locator('.panel .error', { hasText: 'cannot reach the registry' });
    await poolsError.waitFor({ timeout: 30_000 });
    await expect(poolsError.textContent()).resolves.toContain(`the console cannot reach the registry at ${registry} (is the cluster running? the console server's --registry/LONGSHORE_REGISTRY points there): `);
    expect(await page.locator('[data-pool="default"]').count()).toBe(1);
    await shot('registry-unreachable');
    // The jobs page still works (the dispatcher is up), until the dispatcher stops too.
    await page.goto(`${server.url}#/jobs`);
    await page.locator('table.jobs tbody tr').first().waitFor();
    // Its pool filter says why it lists no pools, rather than showing an empty list.
    await page.locator('.filters .error', { hasText: 'pool list unavailable: the console cannot reach the registry' }).waitFor({ timeout: 30_000 });
    await page.goto(`${server.url}#/jobs/${running.id}`);
    await page.locator('.log-row', { hasText: 'before-outage' }).waitFor({ timeout: 60_000 });
    await cluster.dispatcher.stop();
    // The followed log says so at once (its stream does not sit reconnecting for a minute first),
    // and keeps the lines it showed.
    await page.locator('.log .error', { hasText: 'cannot reach the dispatcher' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('.log-row', { hasText: 'before-outage' }).count()).toBe(1);
    await page.goto(`${server.url}#/jobs`);
    const jobsError = page.locator('.panel .error', { hasText: 'cannot reach the dispatcher' });
    await jobsError.waitFor({ timeout: 30_000 });
    await expect(jobsError.textContent()).resolves.toContain(`the console cannot reach the dispatcher at ${dispatcher} (is the cluster running? the console server's --dispatcher/LONGSHORE_DISPATCHER points there): `);
    // A page opened now: the message, and that it tries again; no blank page, no stack.
    await page.reload();
    const signInError = page.locator('main .error');
    await signInError.waitFor({ timeout: 30_000 });
    await expect(signInError.textContent()).resolves.toMatch(/^the console cannot reach the registry at /);
    await page.locator('main .retrying').waitFor();
    expect(await page.locator('main').textContent()).not.toMatch(/\bat [\w.<>]+ \(|node:internal/);
    await shot('cluster-unreachable');
    // And the console server itself gone: the page says so, not "Failed to fetch".
    await server.close();
    await page.locator('main .error', { hasText: 'cannot reach the console server at ' }).waitFor({ timeout: 30_000 });
  });
});
