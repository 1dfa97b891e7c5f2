/// <reference lib="dom" />
import { h } from 'preact';
import { useState } from 'preact/hooks';
import type { PoolView } from '../api-types.js';
import { get, post } from './api.js';
import { me } from './state.js';
import { ActionButton, Badge, Bar, ErrorLine, Section, useAction, usePoll } from './widgets.js';

function PoolCard({ pool, canWrite, reload }: { pool: PoolView; canWrite: boolean; reload: () => void }) {
  const [confirming, setConfirming] = useState(false);
  return h(
    'article',
    { class: 'card pool', 'data-pool': pool.id },
    h('header', { class: 'card-head' }, h('h3', null, pool.id), pool.isDefault ? h('span', { class: 'chip default' }, 'default') : null, h(Badge, { word: pool.health })),
    pool.description ? h('p', { class: 'muted' }, pool.description) : null,
    h(Bar, { used: pool.weightInUseMilli, total: pool.capacityMilli, label: `weight in use ${pool.weightInUse} of capacity ${pool.capacity}` }),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'weight in use'),
      h('dd', null, `${pool.weightInUse} of ${pool.capacity}`),
      h('dt', null, 'agents'),
      h('dd', null, `${pool.liveAgents} live`, pool.drainingAgents ? `, ${pool.drainingAgents} draining` : '', pool.lostAgents ? `, ${pool.lostAgents} lost` : ''),
      h('dt', null, 'jobs'),
      h('dd', null, h('a', { href: `#/jobs?pool=${encodeURIComponent(pool.id)}&state=queued` }, `${pool.jobsQueued} queued`), ', ', h('a', { href: `#/jobs?pool=${encodeURIComponent(pool.id)}&state=running` }, `${pool.jobsRunning} running`)),
      h('dt', null, 'job weights'),
      h('dd', null, `default ${pool.defaultWeight}, at most ${pool.maxWeight}`),
      pool.executors.length ? [h('dt', null, 'executors'), h('dd', null, pool.executors.join(', '))] : null,
      pool.reservation
        ? [h('dt', null, 'reservation'), h('dd', null, 'job ', h('a', { href: `#/jobs/${encodeURIComponent(pool.reservation.jobId)}` }, pool.reservation.jobId), ` (weight ${pool.reservation.weight}) since ${pool.reservation.since}`, pool.reservation.agentId ? ` on ${pool.reservation.agentId}` : '')]
        : null,
    ),
    canWrite
      ? h(
          'footer',
          { class: 'card-actions' },
          pool.isDefault ? null : h(ActionButton, { label: 'Make default', action: () => post(`/api/pools/${encodeURIComponent(pool.id)}/default`), onDone: reload }),
          pool.isDefault
            ? null
            : confirming
              ? [h(ActionButton, { label: `Delete ${pool.id} and cancel its jobs`, kind: 'danger', action: () => post(`/api/pools/${encodeURIComponent(pool.id)}/delete`), onDone: reload }), h('button', { type: 'button', onClick: () => setConfirming(false) }, 'Keep it')]
              : h('button', { type: 'button', onClick: () => setConfirming(true) }, 'Delete…'),
        )
      : null,
  );
}

function CreatePool({ onCreated }: { onCreated: () => void }) {
  const { busy, error, run } = useAction();
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const body = { id: f.get('id'), description: f.get('description'), defaultWeight: f.get('defaultWeight'), maxWeight: f.get('maxWeight'), makeDefault: f.get('makeDefault') === 'on' };
    if (await run(() => post('/api/pools', body))) {
      form.reset();
      onCreated();
    }
  };
  return h(
    'form',
    { class: 'inline-form', onSubmit: (ev: Event) => void submit(ev), 'aria-label': 'create a pool' },
    h('label', null, 'Pool id', h('input', { name: 'id', required: true, placeholder: 'ingest-eu', pattern: '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?', title: 'lowercase letters, digits and -' })),
    h('label', null, 'Description', h('input', { name: 'description', placeholder: 'what runs here' })),
    h('label', null, 'Default weight', h('input', { name: 'defaultWeight', placeholder: '0.25', inputMode: 'decimal' })),
    h('label', null, 'Largest weight', h('input', { name: 'maxWeight', placeholder: '1', inputMode: 'decimal' })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'makeDefault' }), 'Make it the default pool'),
    h('button', { type: 'submit', disabled: busy }, busy ? 'Creating…' : 'Create pool'),
    h(ErrorLine, { error }),
  );
}

/** The pools page: each pool's health, capacity against weight in use, jobs, reservation. */
export function PoolsView() {
  const pools = usePoll((signal) => get<PoolView[]>('/api/pools', signal), 'pools', 2000);
  const canWrite = me.value?.role === 'admin';
  return h(
    'div',
    null,
    h(
      Section,
      { title: 'Pools' },
      h(ErrorLine, { error: pools.error }),
      pools.data ? h('div', { class: 'cards' }, pools.data.map((p) => h(PoolCard, { key: p.id, pool: p, canWrite, reload: pools.reload }))) : h('p', { class: 'muted' }, 'Loading pools…'),
    ),
    canWrite ? h(Section, { title: 'New pool' }, h(CreatePool, { onCreated: pools.reload })) : null,
  );
}
