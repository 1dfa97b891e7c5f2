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
