/** One run of a job on an agent, from the job's record (agent clock, epoch ms). */
export interface Run {
  job: string;
  agent: string;
  weight: number;
  lane?: string;
  start: number;
  end: number;
}

/** A period when an agent held the pool's reservation (it admits nothing but the reserved job). */
export interface Hold {
  agent: string;
  job: string;
  start: number;
  end: number;
}

export interface AgentShape {
  id: string;
  capacity: number;
  lanes: Record<string, number>;
  /** When it died (SIGKILL), if it did: it is ignored from then on. */
  diedAt?: number;
}

/** Peak summed weight, and peak per-lane count, of an agent's runs (ends sort before starts). */
export function peaks(runs: Run[]): { weight: number; lanes: Record<string, number> } {
  const ev = runs.flatMap((r) => [
    { t: r.start, d: 1, r },
    { t: r.end, d: -1, r },
  ]);
  ev.sort((a, b) => a.t - b.t || a.d - b.d);
  let w = 0;
  let peak = 0;
  const lanes: Record<string, number> = {};
  const lanePeak: Record<string, number> = {};
  for (const e of ev) {
    w += e.d * e.r.weight;
    peak = Math.max(peak, w);
    if (e.r.lane) {
      lanes[e.r.lane] = (lanes[e.r.lane] ?? 0) + e.d;
      lanePeak[e.r.lane] = Math.max(lanePeak[e.r.lane] ?? 0, lanes[e.r.lane]!);
    }
  }
  return { weight: peak, lanes: lanePeak };
}

/** Free weight and lane counts of an agent at instant t (runs starting at t count as running). */
export function stateAt(runs: Run[], t: number): { used: number; lanes: Record<string, number> } {
  let used = 0;
  const lanes: Record<string, number> = {};
  for (const r of runs) {
    if (r.start <= t && r.end > t) {
      used += r.weight;
      if (r.lane) lanes[r.lane] = (lanes[r.lane] ?? 0) + 1;
    }
  }
  return { used, lanes };
}

/**
 * The longest stretch within [from, to] during which `agent` was alive, not holding a reservation
 * for another job, and had room (weight and lane) for a job of `weight`/`lane`.
 */
export function longestRoom(agent: AgentShape, runs: Run[], holds: Hold[], job: { id: string; weight: number; lane?: string }, from: number, to: number): number {
  if (job.weight > agent.capacity) return 0;
  const end = Math.min(to, agent.diedAt ?? Infinity);
  if (end <= from) return 0;
  const cuts = new Set<number>([from, end]);
  for (const r of runs) for (const t of [r.start, r.end]) if (t > from && t < end) cuts.add(t);
  for (const h of holds) for (const t of [h.start, h.end]) if (t > from && t < end) cuts.add(t);
  const times = [...cuts].sort((a, b) => a - b);
  let best = 0;
  let run = 0;
  for (let i = 0; i + 1 < times.length; i++) {
    const [a, b] = [times[i]!, times[i + 1]!];
    const mid = (a + b) / 2;
    const s = stateAt(runs, mid);
    const laneOk = !job.lane || agent.lanes[job.lane] === undefined || (s.lanes[job.lane] ?? 0) < agent.lanes[job.lane]!;
    const holding = holds.some((h) => h.start <= mid && h.end > mid && h.job !== job.id);
    if (!holding && laneOk && agent.capacity - s.used >= job.weight) {
      run += b - a;
      best = Math.max(best, run);
    } else run = 0;
  }
  return best;
}

/**
 * One claim an agent made, read from its runs by the order of its own events (no latencies).
 *
 * Why the bounds hold, from how the agent works: its claims take turns (one at a time); a claim
 * admits every job it got synchronously, stamping each run's start, so no run's end is stamped in
 * between; a run's end is stamped in the same macrotask as its weight is freed. Hence, for the
 * claim that admitted a run starting at `at`:
 * - it asked after `askedAfter`: the start of a run admitted before some end that precedes `at`
 *   (that run came from an earlier turn, which finished before this one asked);
 * - everything it admitted started no later than `admittedBy`, the first end after `at`;
 * - what the agent had in use when it asked is among its runs that started by `admittedBy` and
 *   ended at or after `askedAfter` (a superset, so a fit against it is a fit against the truth).
 */
export interface Claim {
  agent: string;
  at: number;
  askedAfter: number;
  admittedBy: number;
}

/** Every claim of one agent with a known lower bound on when it asked (see Claim). */
export function claimsOf(agent: string, runs: Run[]): Claim[] {
  const ends = runs.map((r) => r.end).sort((a, b) => a - b);
  const starts = [...new Set(runs.map((r) => r.start))].sort((a, b) => a - b);
  const out: Claim[] = [];
  for (const at of starts) {
    const lastEnd = ends.filter((e) => e < at).at(-1);
    if (lastEnd === undefined) continue;
    const askedAfter = starts.filter((s) => s < lastEnd).at(-1);
    if (askedAfter === undefined) continue;
    out.push({ agent, at, askedAfter, admittedBy: ends.find((e) => e > at) ?? Infinity });
  }
  return out;
}

/**
 * True when the first claim of a job (by the agent that first ran it, which started it at
 * `startedAt`) provably reached Redis after the claim `c`: the job was still in the queue when
 * `c` was made. Same agent: some run of it ended between `c` and the start (a later turn). Another
 * agent: it admitted some other run after `c.at` in a turn before the one that took the job.
 */
export function claimedAfter(c: Claim, first: { agent: string; startedAt: number }, runsOfFirst: Run[]): boolean {
  if (first.agent === c.agent) return runsOfFirst.some((r) => r.end > c.at && r.end < first.startedAt);
  const lastEnd = Math.max(-Infinity, ...runsOfFirst.filter((r) => r.end < first.startedAt).map((r) => r.end));
  return runsOfFirst.some((r) => r.start > c.at && r.start < lastEnd);
}

/** Whether a job of `weight`/`lane` fitted beside every run the agent may have had in use when it made claim `c` (excluding `except`). */
export function fitsAtClaim(agent: AgentShape, runs: Run[], c: Claim, job: { weight: number; lane?: string }, except: Set<string>): boolean {
  let used = 0;
  const lanes: Record<string, number> = {};
  for (const r of runs) {
    if (except.has(r.job) || r.start > c.admittedBy || r.end < c.askedAfter) continue;
    used += r.weight;
    if (r.lane) lanes[r.lane] = (lanes[r.lane] ?? 0) + 1;
  }
  const cap = job.lane === undefined ? undefined : agent.lanes[job.lane];
  return job.weight <= agent.capacity - used && (cap === undefined || (lanes[job.lane!] ?? 0) < cap);
}

/** Whether the agent may have held the reservation for a job other than `job` while it made claim `c`. */
export function heldForOther(holds: Hold[], c: Claim, job: string): boolean {
  return holds.some((h) => h.agent === c.agent && h.job !== job && h.start <= c.admittedBy && h.end >= c.askedAfter);
}
