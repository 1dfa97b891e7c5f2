import type { AgentView } from '../api-types.js';
import { href } from './routes.js';

/** One part of a capacity bar: a job's weight (thousandths), linking to the job. */
export interface BarPart {
  key: string;
  milli: number;
  label: string;
  href?: string;
}

/** The parts of an agent's capacity bar: each running job by its weight, then any weight not accounted for. */
export function capacityParts(agent: Pick<AgentView, 'jobs' | 'otherWeightMilli' | 'otherWeight'>): BarPart[] {
  const parts: BarPart[] = agent.jobs.map((j) => ({ key: j.id, milli: j.weightMilli, label: `job ${j.id}, weight ${j.weight}`, href: href('jobs', j.id) }));
  if (agent.otherWeightMilli > 0) parts.push({ key: 'other', milli: agent.otherWeightMilli, label: `other jobs, weight ${agent.otherWeight}` });
  return parts;
}
