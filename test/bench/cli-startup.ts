/**
 * How long a user waits for the `longshore` command: wall time of `longshore --help`,
 * `longshore jobs ls` and `longshore submit --wait -- true` against the running cluster, each a
 * fresh `node services/cli/bin/longshore.js` process (the compiled bundle), beside `node -e 0`,
 * the floor any Node.js command pays. The four are run in turn, round after round (after one
 * warm-up round), so a load spike on the machine hits them alike. `LONGSHORE_BENCH_NODE=/path/to/node`
 * runs them on another Node.js (e.g. 24, whose compile cache the CLI uses) than the harness's.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@longshore/testing';
import { startPool, type BenchCluster } from './longshore-jobs.js';
import type { SummaryRow } from './report.js';
import { median } from './stats.js';

export interface CliStartupOptions {
  /** Rounds measured (each runs every command once). */
  rounds: number;
}

/** What is measured, in the order of each round. */
export const CLI_COMMANDS = ['node -e 0', 'longshore --help', 'longshore jobs ls', 'longshore submit --wait -- true'] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

export interface CliStartupResult {
  rounds: number;
  node: string;
  /** Wall ms per run, per command. */
  ms: Record<CliCommand, number[]>;
}

/** The goal for `jobs ls`, in ms of wall time (README: Performance). */
export const JOBS_LS_GOAL_MS = 150;

const BIN = join(repoRoot, 'services', 'cli', 'bin', 'longshore.js');

/** The Node.js the commands run on: LONGSHORE_BENCH_NODE, else the harness's own. */
function benchNode(): { path: string; version: string } {
  const path = process.env['LONGSHORE_BENCH_NODE'] || process.execPath;
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`LONGSHORE_BENCH_NODE=${path}: node --version exited ${r.status ?? r.signal}: ${r.stderr}`);
  return { path, version: r.stdout.trim() };
}

export async function runCliStartup(bc: BenchCluster, opts: CliStartupOptions): Promise<CliStartupResult> {
  const pool = `cli-${Date.now().toString(36)}`;
  const node = benchNode();
  const agents = await startPool(bc, pool, 1, '1.0');
  // The CLI reads the cluster's address and token from the environment, as a user's shell would.
  const env = { ...process.env, ...bc.cluster.clientEnv, NODE_OPTIONS: undefined };
  const args: Record<CliCommand, string[]> = {
    'node -e 0': ['-e', '0'],
    'longshore --help': [BIN, '--help'],
    'longshore jobs ls': [BIN, 'jobs', 'ls', '--pool', pool],
    'longshore submit --wait -- true': [BIN, 'submit', '--wait', '--pool', pool, '--', 'true'],
  };
  const once = (cmd: CliCommand): number => {
    const t0 = performance.now();
    const r = spawnSync(node.path, args[cmd], { env, encoding: 'utf8', timeout: 60_000 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd} exited ${r.status ?? r.signal}: ${r.stderr}`);
    return ms;
  };
  try {
    for (const cmd of CLI_COMMANDS) once(cmd); // warm-up: the page cache, the pool's first job
    const ms = Object.fromEntries(CLI_COMMANDS.map((c) => [c, [] as number[]])) as Record<CliCommand, number[]>;
    for (let i = 0; i < opts.rounds; i++) for (const cmd of CLI_COMMANDS) ms[cmd].push(once(cmd));
    return { rounds: opts.rounds, node: node.version, ms };
  } finally {
    await agents.stop();
  }
}

/** Medians side by side, each as a multiple of `node -e 0`. */
export function formatCliStartup(r: CliStartupResult): string {
  const floor = median(r.ms['node -e 0']);
  const rows = CLI_COMMANDS.map((c) => {
    const m = median(r.ms[c]);
    return `${c.padEnd(34)} ${m.toFixed(0).padStart(6)} ms  ${(m / floor).toFixed(1).padStart(5)}×`;
  });
  return [`CLI start-up (wall time, median of ${r.rounds}, ${r.node}; ratio to node -e 0)`, ...rows].join('\n');
}

/** The summary line: `jobs ls` against its goal. */
export function cliStartupSummary(r: CliStartupResult): SummaryRow[] {
  const ls = median(r.ms['longshore jobs ls']);
  const floor = median(r.ms['node -e 0']);
  return [{ benchmark: 'cli', metric: 'longshore jobs ls, wall time (median)', value: `${ls.toFixed(0)} ms (${(ls / floor).toFixed(1)}× node -e 0)`, goal: `≤ ${JOBS_LS_GOAL_MS} ms`, met: ls <= JOBS_LS_GOAL_MS }];
}
