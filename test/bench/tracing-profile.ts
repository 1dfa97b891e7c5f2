/**
 * Breaks down where an agent's CPU time went per job, from the profiles the tracing benchmark
 * writes with `LONGSHORE_BENCH_CPU_PROFILE=<dir>` (see `tracing.ts`):
 *
 *   LONGSHORE_BENCH_CPU_PROFILE=/tmp/prof npm run bench -- --only tracing
 *   npx tsx test/bench/tracing-profile.ts /tmp/prof
 *
 * Only samples inside the bulk run's window count. Each sample goes to the code that caused it:
 * from the sampled function up its stack to the first frame outside Node's internals and
 * built-ins, so JSON.stringify called by the OTLP encoder counts as the encoder's. That frame's
 * package names the row (`@opentelemetry/sdk-trace`, `libs/agent`, `ioredis`…); a sample with
 * no such frame is named by Node's module (`node:_http_client`: the exporter's HTTP, as nothing
 * else in an agent speaks HTTP/1) or the VM's pseudo-frame (`(garbage collector)`). Sampled,
 * so a figure below ~5 µs/job is noise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
  wallStartMs: number;
}

interface Window {
  fromMs: number;
  toMs: number;
  jobs: number;
  agentCpuMs: number;
}

/** The row a frame's url belongs to, or undefined for Node's internals and built-ins. */
function owner(url: string): string | undefined {
  if (!url || url.startsWith('node:')) return undefined;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  const lib = /\/(libs|services)\/([^/]+)\/(?:dist|src)\/(.+?)\.[cm]?[jt]s$/.exec(url);
  if (lib) return lib[1] === 'libs' && lib[2] === 'agent' && lib[3] === 'tracing' ? 'libs/agent (tracing.ts)' : `${lib[1]}/${lib[2]}`;
  return url;
}

/** µs per job by row, over the window's samples. */
export function breakdown(profile: Profile, window: Window): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const rowOf = new Map<number, string>();
  const row = (id: number): string => {
    const known = rowOf.get(id);
    if (known) return known;
    let name: string | undefined;
    let internal: string | undefined;
    for (let cur: number | undefined = id, depth = 0; cur !== undefined && depth < 1000; cur = parent.get(cur), depth++) {
      const f = byId.get(cur)!.callFrame;
      name = owner(f.url);
      if (name) break;
      if (!internal && f.url.startsWith('node:')) internal = f.url;
    }
    const leaf = byId.get(id)!.callFrame;
    const r = name ?? internal ?? (leaf.functionName.startsWith('(') ? leaf.functionName : `(native ${leaf.functionName || 'anonymous'})`);
    rowOf.set(id, r);
    return r;
  };
  const us = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const wall = profile.wallStartMs + (t - profile.startTime) / 1000;
    if (wall < window.fromMs || wall > window.toMs) continue;
    // The time up to the next sample is this sample's.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const r = row(profile.samples[i]!);
    us.set(r, (us.get(r) ?? 0) + dt);
  }
  for (const [k, v] of us) us.set(k, v / Math.max(1, window.jobs));
  return us;
}

function load(dir: string, what: string): { profile: Profile; window: Window } | undefined {
  try {
    const file = join(dir, `agent-${what}.cpuprofile`);
    return { profile: JSON.parse(readFileSync(file, 'utf8')) as Profile, window: JSON.parse(readFileSync(`${file}.window.json`, 'utf8')) as Window };
  } catch {
    return undefined;
  }
}

function main(dir: string): void {
  const runs = (['off', 'on'] as const).map((w) => ({ what: w, run: load(dir, w) }));
  const found = runs.filter((r): r is { what: 'off' | 'on'; run: NonNullable<typeof r.run> } => r.run !== undefined);
  if (found.length === 0) throw new Error(`no agent-off.cpuprofile or agent-on.cpuprofile (with its .window.json) in ${dir}`);
  const tables = found.map((r) => ({ what: r.what, us: breakdown(r.run.profile, r.run.window), window: r.run.window }));
  const rows = [...new Set(tables.flatMap((t) => [...t.us.keys()]))];
  const total = (m: Map<string, number>) => [...m.entries()].filter(([k]) => k !== '(idle)').reduce((s, [, v]) => s + v, 0);
  rows.sort((a, b) => Math.max(...tables.map((t) => t.us.get(b) ?? 0)) - Math.max(...tables.map((t) => t.us.get(a) ?? 0)));
  const pad = (s: string, n: number) => s.padStart(n);
  console.log(`${'µs per job'.padEnd(44)}${tables.map((t) => pad(t.what, 10)).join('')}${tables.length === 2 ? pad('on − off', 10) : ''}`);
  for (const r of rows) {
    const v = tables.map((t) => t.us.get(r) ?? 0);
    if (Math.max(...v) < 2) continue;
    console.log(`${r.slice(0, 43).padEnd(44)}${v.map((x) => pad(x.toFixed(1), 10)).join('')}${v.length === 2 ? pad((v[1]! - v[0]!).toFixed(1), 10) : ''}`);
  }
  const sums = tables.map((t) => total(t.us));
  console.log(`${'total sampled (not idle)'.padEnd(44)}${sums.map((x) => pad(x.toFixed(1), 10)).join('')}${sums.length === 2 ? pad((sums[1]! - sums[0]!).toFixed(1), 10) : ''}`);
  const otel = tables.map((t) => [...t.us.entries()].filter(([k]) => k.startsWith('@opentelemetry/')).reduce((s, [, v]) => s + v, 0));
  console.log(`${'of which @opentelemetry/*'.padEnd(44)}${otel.map((x) => pad(x.toFixed(1), 10)).join('')}`);
  const cpu = tables.map((t) => (t.window.agentCpuMs * 1000) / Math.max(1, t.window.jobs));
  console.log(`${'agent CPU (/proc, user+sys)'.padEnd(44)}${cpu.map((x) => pad(x.toFixed(1), 10)).join('')}${cpu.length === 2 ? pad((cpu[1]! - cpu[0]!).toFixed(1), 10) : ''}`);
  console.log(`jobs: ${tables.map((t) => `${t.what} ${t.window.jobs}`).join(', ')}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: tsx test/bench/tracing-profile.ts <dir written by LONGSHORE_BENCH_CPU_PROFILE>');
    process.exit(2);
  }
  main(dir);
}
