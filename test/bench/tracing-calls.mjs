/**
 * What the agent's tracing calls cost per job, in one process, by CPU time (less sensitive to
 * what else loads the machine than the tracing benchmark's throughput): the calls a run makes
 * (`startAttemptSpans`, `executor.start` and `run` spans, TRACEPARENT, `endAttemptSpan`, the
 * `finish` span; 5 spans, 8 jobs at a time, 4 ms apart: ~2,000 jobs/s) with the compiled
 * agent's own tracing module, exporting OTLP/HTTP JSON to a receiver in a child process (so its
 * CPU is not counted) that reads every body. Run after `npm run build`, with plain node:
 *
 *   node test/bench/tracing-calls.mjs off|thread|main [jobs]
 *
 * `off`: no OTEL_* (the calls make no-op spans); `thread`: the export thread (the default);
 * `main`: LONGSHORE_TRACE_EXPORT_THREAD=0. Prints the main thread's CPU (/proc) and the
 * process' per job; subtract `off` for tracing's share.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import * as telemetry from '@longshore/telemetry';
import * as tracing from '../../libs/agent/dist/tracing.js';

const [mode = 'thread', jobsArg = '10000'] = process.argv.slice(2);
if (!['off', 'thread', 'main'].includes(mode)) throw new Error('usage: node test/bench/tracing-calls.mjs off|thread|main [jobs]');
const N = Number(jobsArg);
const SINK = `
import { createServer } from 'node:http';
let spans = 0;
const s = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try { for (const r of JSON.parse(Buffer.concat(chunks)).resourceSpans ?? []) for (const ss of r.scopeSpans ?? []) spans += ss.spans?.length ?? 0; } catch {}
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
process.on('SIGTERM', () => { console.log('spans ' + spans); process.exit(0); });
`;
const sink = spawn(process.execPath, ['--input-type=module', '-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = [];
sink.stdout.setEncoding('utf8').on('data', (d) => lines.push(...d.trim().split('\n')));
for (let i = 0; i < 200 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
if (mode !== 'off') {
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${lines[0]}`;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  process.env.OTEL_TRACES_SAMPLER = 'always_on';
  if (mode === 'main') process.env.LONGSHORE_TRACE_EXPORT_THREAD = '0';
}
// OTEL_* are read when telemetry starts, not when it is imported.
const started = await telemetry.startTelemetry('worker-agent');

// A job as a claim returns it, in a trace the dispatcher started.
const carrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
const spec = { command: ['true'], weightMilli: 125, env: {}, executor: 'noop' };
async function job(i) {
  const j = { id: `bench-${i}`, pool: 'overhead', token: 't', attempt: 1, spec, trace: carrier };
  const spans = tracing.startAttemptSpans(j, 'overhead-1', false);
  const end = await context.with(spans.ctx, async () => {
    trace.getActiveSpan()?.setAttribute('longshore.executor', 'noop');
    const traceparent = telemetry.traceparentOf();
    await tracing.inSpan('executor.start', { 'longshore.executor': 'noop' }, async () => ({ traceparent }));
    await tracing.inSpan('run', { 'longshore.executor': 'noop' }, async () => ({ kind: 'exited', exitCode: 0 }), (span, out) => span.setAttribute('process.exit.code', out.exitCode));
    return { kind: 'finish', outcome: { attempt: { executor: 'noop' }, state: 'succeeded', exitCode: 0 } };
  });
  tracing.endAttemptSpan(spans.span, end);
  const finish = tracing.startFinishSpan(spans.ctx, j);
  finish?.setAttribute('longshore.recorded', true);
  finish?.end();
}
const threadCpuMs = () => {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const processCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function run(n) {
  for (let i = 0; i < n; i += 8) {
    await Promise.all(Array.from({ length: 8 }, (_, k) => job(i + k)));
    await new Promise((r) => setTimeout(r, 4));
  }
}
await run(2000); // warm-up
const main0 = threadCpuMs();
const proc0 = processCpuMs();
await run(N);
await started.shutdown(); // flushes: the export's cost is counted
const perJob = (ms) => ((ms * 1000) / N).toFixed(1);
console.log(`${mode}: main thread ${perJob(threadCpuMs() - main0)} µs/job, process ${perJob(processCpuMs() - proc0)} µs/job (${N} jobs)`);
sink.kill('SIGTERM');
await new Promise((r) => sink.once('exit', r));
if (mode !== 'off') console.log(`receiver: ${lines.at(-1)} (5 per job, warm-up included)`);
process.exit(0);
