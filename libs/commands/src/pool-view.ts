import { Executor, PoolHealth, type Pool } from '@longshore/client';
import { formatBytes, formatMilli, formatStandard } from '@longshore/domain';
import { enumWord, when } from './format.js';
import { renderFields, renderTable } from './table.js';

/** The `longshore pools ls` table. */
export function renderPoolTable(pools: readonly Pool[]): string {
  const rows = pools.map((p) => {
    const s = p.status;
    return [
      p.id,
      p.isDefault ? '*' : '',
      enumWord(PoolHealth, s?.health ?? PoolHealth.UNSPECIFIED),
      String(s?.liveAgents ?? 0),
      formatMilli(s?.capacityMilli ?? 0),
      formatMilli(s?.weightInUseMilli ?? 0),
      String(s?.jobsQueued ?? 0n),
      String(s?.jobsRunning ?? 0n),
      formatMilli(p.defaultWeightMilli),
      formatMilli(p.maxWeightMilli),
    ];
  });
  return renderTable(['ID', 'DEFAULT', 'HEALTH', 'AGENTS', 'CAPACITY', 'IN USE', 'QUEUED', 'RUNNING', 'DEFAULT WEIGHT', 'MAX WEIGHT'], rows);
}

/** The `longshore pools get` view, status included. */
export function renderPool(p: Pool, now: number): string {
  const s = p.status;
  const fields: [string, string][] = [
    ['id', p.id],
    ['description', p.description || '-'],
    ['default pool', p.isDefault ? 'yes' : 'no'],
    ['default weight', formatMilli(p.defaultWeightMilli)],
    ['max weight', formatMilli(p.maxWeightMilli)],
    ['executors', p.executors.length > 0 ? p.executors.map((e) => enumWord(Executor, e)).join(', ') : 'all'],
    ['secrets', p.secrets.length > 0 ? p.secrets.join(', ') : 'any'],
    ['standard agent', p.standard ? formatStandard({ cpusMilli: p.standard.cpusMilli, memoryBytes: Number(p.standard.memoryBytes) }) || '-' : '- (weights are admission only)'],
    ['created', when(p.createdAt, now)],
  ];
  if (s) {
    fields.push(
      ['health', enumWord(PoolHealth, s.health)],
      ['agents', `${s.liveAgents} live, ${s.drainingAgents} draining, ${s.lostAgents} lost`],
      ['capacity', formatMilli(s.capacityMilli)],
      ['in use', formatMilli(s.weightInUseMilli)],
      ['jobs queued', String(s.jobsQueued)],
      ['jobs running', String(s.jobsRunning)],
      [
        'reservation',
        s.reservation
          ? `job ${s.reservation.jobId} (weight ${formatMilli(s.reservation.weightMilli)}) on agent ${s.reservation.agentId}, since ${when(s.reservation.since, now)}`
          : 'none',
      ],
      ['redis (all pools)', s.redis ? redisUsage(s.redis) : 'not checked yet'],
    );
    for (const w of s.waitingByExecutors) {
      const names = w.executors.map((e) => enumWord(Executor, e)).join(' or ');
      fields.push([`queued for ${names}`, `${w.queued}${w.runnable ? '' : ' (waiting: no live agent of the pool has it)'}`]);
    }
  }
  return renderFields(fields);
}

/** "41.2Mi of 1Gi (LONGSHORE_REDIS_BUDGET)", flagged when live data alone is over it. */
function redisUsage(r: { usedBytes: bigint; budgetBytes: bigint; exhausted: boolean }): string {
  const text = `${formatBytes(Number(r.usedBytes))} of ${formatBytes(Number(r.budgetBytes))} (LONGSHORE_REDIS_BUDGET)`;
  return r.exhausted ? `${text}: over with live data alone, submits are refused` : text;
}
