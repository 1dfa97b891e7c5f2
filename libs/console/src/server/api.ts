import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, LongshoreError, TokenRole, type LongshoreClient } from '@longshore/client';
import { tokenRoleEnum } from '@longshore/rpc';
import type { AgentView, JobPageView, JobSummaryView, WhoAmIView } from '../api-types.js';
import type { ClientsByToken } from './clients.js';
import { bearerToken, readJson, sendJson } from './http-guard.js';
import { explainUnreachable, type ServiceAddresses } from './http-status.js';
import type { LoginLinks } from './login-links.js';
import { listJobsRequest, parseCreatePool, parseDeletePool, parseJobListQuery, parseLogin, parseSubmit, parseUpdatePool, type JobListQuery } from './requests.js';
import { openSse } from './sse.js';
import { agentView, jobDetailView, jobSummaryView, logLineView, poolView } from './views.js';

/** What the API handlers need. */
export interface ApiDeps {
  clients: ClientsByToken;
  /** The dispatcher's and registry's addresses, named when one cannot be reached. */
  cluster: ServiceAddresses;
  logins: LoginLinks;
  traceUrl: string | undefined;
  /** How often a live jobs list asks the dispatcher for its page again. */
  livePollMs: number;
  now(): number;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  /** The user's client: every call carries the user's own token. */
  ls: LongshoreClient;
  /** Aborted when the browser goes away. */
  signal: AbortSignal;
}

type Handler = (call: Call, deps: ApiDeps) => Promise<unknown>;

const ID = '([A-Za-z0-9._-]{1,128})';

/** How many ListJobs calls one page may take: the dispatcher scans a bounded stretch per call. */
const MAX_LIST_CALLS = 10;

/**
 * One page of jobs. The dispatcher scans a bounded stretch of jobs per call, so a narrow filter
 * can come back short (or empty) with a token to go on: the page is filled from further calls,
 * up to {@link MAX_LIST_CALLS}, so the user does not page through empty pages.
 */
async function jobPage(ls: LongshoreClient, q: JobListQuery, now: number, signal: AbortSignal): Promise<JobPageView> {
  const jobs: JobSummaryView[] = [];
  let token = q.pageToken;
  for (let i = 0; i < MAX_LIST_CALLS; i++) {
    const res = await ls.dispatcher.listJobs(listJobsRequest({ ...q, pageSize: q.pageSize - jobs.length, pageToken: token }), { signal });
    for (const j of res.jobs) jobs.push(jobSummaryView(j, now));
    token = res.nextPageToken;
    if (!token || jobs.length >= q.pageSize) break;
  }
  return { jobs, nextPageToken: token };
}

/** What a stream that failed after it opened tells the page: the API's message, an unreachable service named. */
function failedMessage(err: unknown, deps: ApiDeps): string {
  return (explainUnreachable(err, deps.cluster) as Error).message;
}

/** Resolves after `ms`, or early when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The jobs list as a stream: its page now, then again each time it changes, until the browser leaves. */
async function liveJobs({ ls, res, url, signal }: Call, deps: ApiDeps): Promise<void> {
  const q = parseJobListQuery(url.searchParams);
  let page = await jobPage(ls, q, deps.now(), signal); // errors before the stream opens get their status
  const sse = openSse(res);
  let last = '';
  try {
    while (!signal.aborted) {
      // Compare without the durations that tick on their own; send when a job changed.
      const sig = JSON.stringify(page.jobs.map((j) => [j.id, j.state, j.exitCode, j.failureClass]));
      if (sig !== last) sse.send('page', page);
      last = sig;
      await pause(deps.livePollMs, signal);
      if (signal.aborted) break;
      page = await jobPage(ls, q, deps.now(), signal);
    }
  } catch (err) {
    if (!signal.aborted) sse.send('failed', { message: failedMessage(err, deps) });
  } finally {
    sse.end();
  }
}

/** A job's log as a stream of line batches; `after` (or Last-Event-ID) resumes after a cursor. */
async function followLogs({ ls, req, res, url, params, signal }: Call, deps: ApiDeps): Promise<void> {
  const id = params[0]!;
  await ls.getJob(id, { signal }); // a missing job is a 404, not an empty stream
  const after = url.searchParams.get('after') || String(req.headers['last-event-id'] ?? '');
  const follow = url.searchParams.get('follow') !== '0';
  const sse = openSse(res);
  let batch: ReturnType<typeof logLineView>[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    sse.send('lines', batch, batch[batch.length - 1]!.cursor);
    batch = [];
  };
  try {
    // No reconnecting here (reconnectForMs 0): the page is told at once that the dispatcher is
    // gone, and reopens the stream after the last line it showed, as it does for any drop.
    for await (const line of ls.logs(id, { follow, signal, reconnectForMs: 0, ...(after ? { after } : {}) })) {
      batch.push(logLineView(line));
      // Lines that come together go out together: at most 500 a batch, or what 50 ms gathered.
      if (batch.length >= 500) flush();
      else timer ??= setTimeout(flush, 50);
    }
    flush();
    sse.send('end', {});
  } catch (err) {
    flush();
    if (!signal.aborted) sse.send('failed', { message: failedMessage(err, deps) });
  } finally {
    if (timer) clearTimeout(timer);
    sse.end();
  }
}

/** One job's record as a stream: now, and each time it changes, until it has finished. */
async function watchJob({ ls, res, params, signal }: Call, deps: ApiDeps): Promise<void> {
  const id = params[0]!;
  const first = await ls.getJob(id, { signal });
  const sse = openSse(res);
  sse.send('job', jobDetailView(first, deps.now(), deps.traceUrl));
  try {
    for await (const msg of ls.dispatcher.watchJob({ id }, { signal })) {
      if (msg.job) sse.send('job', jobDetailView(msg.job, deps.now(), deps.traceUrl));
    }
    sse.send('end', {});
  } catch (err) {
    if (!signal.aborted) sse.send('failed', { message: failedMessage(err, deps) });
  } finally {
    sse.end();
  }
}

async function whoami({ ls, signal }: Call, deps: ApiDeps): Promise<WhoAmIView> {
  const t = (await ls.tokens.whoAmI({}, { signal })).token;
  const role = t ? (tokenRoleEnum.fromProto(t.role) ?? 'unknown') : 'unknown';
  return {
    name: t?.name ?? '',
    role,
    pools: [...(t?.pools ?? [])],
    canWrite: t?.role === TokenRole.ADMIN || t?.role === TokenRole.SUBMITTER,
    ...(deps.traceUrl ? { traceUrl: deps.traceUrl } : {}),
  };
}

/** How many of an agent's running jobs are looked up for its capacity bar; the rest show as one "other" part. */
const MAX_JOBS_PER_AGENT = 32;

/**
 * The agents, each with the jobs filling it and their weights (GetJob for each running job, at
 * most {@link MAX_JOBS_PER_AGENT} an agent): what its capacity bar is made of. A job that finished
 * meanwhile is left out; the weight not accounted for shows as "other".
 */
async function listAgents({ ls, url, signal }: Call, deps: ApiDeps): Promise<AgentView[]> {
  const agents = (await ls.registry.listAgents({ pool: url.searchParams.get('pool') ?? '' }, { signal })).agents;
  const weights = new Map<string, number>();
  const ids = agents.flatMap((a) => a.runningJobIds.slice(0, MAX_JOBS_PER_AGENT));
  await Promise.all(
    ids.map(async (id) => {
      const job = await ls.getJob(id, { signal }).catch((err: unknown) => {
        if (err instanceof LongshoreError && err.code === Code.NotFound) return undefined;
        throw err;
      });
      if (job) weights.set(id, job.weightMilli);
    }),
  );
  return agents.map((a) => agentView(a, deps.now(), weights));
}

/** The routes: method, path pattern, handler. SSE handlers write their own response. */
const ROUTES: [string, RegExp, Handler][] = [
  ['POST', /^\/api\/login$/, async ({ req }, deps) => {
    const token = deps.logins.redeem(parseLogin(await readJson(req)));
    if (token === undefined) throw new LongshoreError(Code.Unauthenticated, 'this login link was used already or has expired: run "longshore up" again, or sign in with a token');
    return { token };
  }],
  ['GET', /^\/api\/whoami$/, whoami],
  ['GET', /^\/api\/pools$/, async ({ ls, signal }, deps) => (await ls.registry.listPools({}, { signal })).pools.map((p) => poolView(p, deps.now()))],
  ['POST', /^\/api\/pools$/, async ({ ls, req, signal }, deps) => poolView((await ls.registry.createPool(parseCreatePool(await readJson(req)), { signal })).pool!, deps.now())],
  ['GET', new RegExp(`^/api/pools/${ID}$`), async ({ ls, params, signal }, deps) => poolView((await ls.registry.getPool({ id: params[0]! }, { signal })).pool!, deps.now())],
  ['POST', new RegExp(`^/api/pools/${ID}/default$`), async ({ ls, params, signal }, deps) => poolView((await ls.registry.setDefaultPool({ id: params[0]! }, { signal })).pool!, deps.now())],
  ['POST', new RegExp(`^/api/pools/${ID}/update$`), async ({ ls, req, params, signal }, deps) => poolView((await ls.registry.updatePool(parseUpdatePool(params[0]!, await readJson(req)), { signal })).pool!, deps.now())],
  ['POST', new RegExp(`^/api/pools/${ID}/delete$`), async ({ ls, req, params, signal }) => ({ cancelledJobs: Number((await ls.registry.deletePool(parseDeletePool(params[0]!, await readJson(req)), { signal })).cancelledJobs) })],
  ['GET', /^\/api\/agents$/, listAgents],
  ['POST', new RegExp(`^/api/agents/${ID}/drain$`), async ({ ls, params, signal }, deps) => {
    const res = await ls.registry.drainAgent({ id: params[0]! }, { signal });
    return res.agent ? agentView(res.agent, deps.now()) : {};
  }],
  ['GET', /^\/api\/jobs$/, async ({ ls, url, signal }, deps) => jobPage(ls, parseJobListQuery(url.searchParams), deps.now(), signal)],
  ['GET', /^\/api\/jobs\/live$/, liveJobs],
  ['POST', /^\/api\/jobs$/, async ({ ls, req, signal }, deps) => jobDetailView(await ls.submit(parseSubmit(await readJson(req)), { signal }), deps.now(), deps.traceUrl)],
  ['GET', new RegExp(`^/api/jobs/${ID}$`), async ({ ls, params, signal }, deps) => jobDetailView(await ls.getJob(params[0]!, { signal }), deps.now(), deps.traceUrl)],
  ['GET', new RegExp(`^/api/jobs/${ID}/watch$`), watchJob],
  ['GET', new RegExp(`^/api/jobs/${ID}/logs$`), followLogs],
  ['POST', new RegExp(`^/api/jobs/${ID}/cancel$`), async ({ ls, params, signal }, deps) => jobDetailView((await ls.dispatcher.cancelJob({ id: params[0]! }, { signal })).job!, deps.now(), deps.traceUrl)],
  ['POST', new RegExp(`^/api/jobs/${ID}/retry$`), async ({ ls, params, signal }, deps) => jobDetailView((await ls.dispatcher.retryJob({ id: params[0]! }, { signal })).job!, deps.now(), deps.traceUrl)],
];

/**
 * Serves one `/api/…` request with the user's token (Authorization: Bearer). Returns false when
 * no route matches. Errors propagate to the caller, which maps them once; an unreachable dispatcher
 * or registry is named first.
 */
export async function serveApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: ApiDeps): Promise<boolean> {
  for (const [method, pattern, handler] of ROUTES) {
    const m = pattern.exec(url.pathname);
    if (!m) continue;
    if (req.method !== method) continue;
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const call: Call = { req, res, url, params: m.slice(1), ls: deps.clients.for(bearerToken(req)), signal: controller.signal };
    let body: unknown;
    try {
      body = await handler(call, deps);
    } catch (err) {
      throw explainUnreachable(err, deps.cluster);
    }
    if (!res.headersSent) sendJson(res, 200, body ?? {});
    return true;
  }
  return false;
}
