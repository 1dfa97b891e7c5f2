/// <reference lib="dom" />
import { h } from 'preact';
import type { AgentView } from '../api-types.js';
import { get, post, query } from './api.js';
import { href, me, route } from './state.js';
import { capacityParts } from './capacity.js';
import { ActionButton, Badge, Cell, ErrorLine, Labels, Section, SegmentedBar, usePoll } from './widgets.js';

function AgentRow({ agent, canWrite, reload }: { agent: AgentView; canWrite: boolean; reload: () => void }) {
  return h(
    'tr',
    { 'data-agent': agent.id },
    h(Cell, { label: 'Agent' }, h('strong', null, agent.id), h('div', { class: 'muted' }, agent.host, agent.version ? ` · v${agent.version}` : ''), h(Labels, { labels: agent.labels })),
    h(Cell, { label: 'Pool' }, agent.pool),
    h(Cell, { label: 'State', class: 'agent-state' }, h(Badge, { word: agent.state })),
    h(
      Cell,
      { label: 'Capacity', class: 'capacity' },
      h(SegmentedBar, { parts: capacityParts(agent), total: agent.capacityMilli, label: `weight in use ${agent.weightInUse} of capacity ${agent.capacity}` }),
      h('div', { class: 'muted' }, `${agent.weightInUse} of ${agent.capacity}`),
      agent.jobs.length || agent.otherWeightMilli
        ? h(
            'ul',
            { class: 'running', 'aria-label': `jobs on ${agent.id}` },
            agent.jobs.map((j, i) => h('li', { key: j.id }, h('span', { class: `swatch seg-${i % 6}`, 'aria-hidden': 'true' }), h('a', { href: href('jobs', j.id) }, j.id), ` ${j.weight}`)),
            agent.otherWeightMilli ? h('li', { key: 'other' }, h('span', { class: 'swatch seg-other', 'aria-hidden': 'true' }), `other jobs ${agent.otherWeight}`) : null,
          )
        : null,
    ),
    h(Cell, { label: 'Lanes' }, agent.lanes.length ? agent.lanes.map((l) => h('div', { key: l.lane }, `${l.lane}: ${l.used}${l.limit !== undefined ? ` of ${l.limit}` : ''}`)) : h('span', { class: 'muted' }, 'none')),
    h(Cell, { label: 'Executors' }, agent.executors.map((e) => h('div', { key: e.name, title: e.reason }, h(Badge, { word: e.healthy ? 'healthy' : 'unhealthy' }), ` ${e.name}`, e.healthy ? '' : `: ${e.reason}`))),
    h(Cell, { label: 'Last heartbeat' }, agent.lastHeartbeat),
    h(Cell, { label: '', class: 'row-actions' }, canWrite && agent.state === 'active' ? h(ActionButton, { label: 'Drain', action: () => post(`/api/agents/${encodeURIComponent(agent.id)}/drain`), onDone: reload }) : null),
  );
}

/** The agents page: each agent's capacity bar, running jobs, lanes, executors, state, heartbeat. */
export function AgentsView() {
  const pool = route.value.query.get('pool') ?? '';
  const agents = usePoll((signal) => get<AgentView[]>(`/api/agents${query({ pool })}`, signal), `agents:${pool}`, 2000);
  const canWrite = me.value?.role === 'admin';
  return h(
    Section,
    { title: pool ? `Agents of pool ${pool}` : 'Agents' },
    h(ErrorLine, { error: agents.error }),
    agents.data
      ? agents.data.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'agents stack' },
              h('thead', null, h('tr', null, ['Agent', 'Pool', 'State', 'Capacity', 'Lanes', 'Executors', 'Last heartbeat', ''].map((t) => h('th', { key: t, scope: 'col' }, t)))),
              h('tbody', null, agents.data.map((a) => h(AgentRow, { key: a.id, agent: a, canWrite, reload: agents.reload }))),
            ),
          )
        : h('p', { class: 'muted' }, 'No agents have registered.')
      : h('p', { class: 'muted' }, 'Loading agents…'),
  );
}
