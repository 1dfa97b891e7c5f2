/// <reference lib="dom" />
import { h } from 'preact';
import { useState } from 'preact/hooks';
import type { PoolView } from '../api-types.js';
import { get, post } from './api.js';
import { formatCount } from './format.js';
import { newPoolBody, poolChanges, poolFieldValues, secretsText, standardText } from './pool-form.js';
import { href, me } from './state.js';
import { ActionButton, Badge, Bar, ErrorLine, Section, useAction, usePoll } from './widgets.js';

/** A form field's text, or null when the form has no such field. */
const reader = (f: FormData) => (name: string) => {
  const v = f.get(name);
  return typeof v === 'string' ? v : null;
};

const STANDARD_HELP = 'CPUs and memory of a standard agent (weight 1): a job of weight w that sets no limits runs with w times these, enforced';
const SECRETS_HELP = 'secret names its jobs may reference, * matching any run of name characters';

/**
 * Edits a pool: the form starts with its values, and only those the user changed are sent, so
 * the API's UpdatePool changes exactly those. Sending none is left to the API, whose message says so.
 */
function EditPool({ pool, onDone }: { pool: PoolView; onDone: () => void }) {
  const { busy, error, run } = useAction();
  const was = poolFieldValues(pool);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const body = poolChanges(pool, reader(new FormData(ev.currentTarget as HTMLFormElement)));
    if (await run(() => post(`/api/pools/${encodeURIComponent(pool.id)}/update`, body))) onDone();
  };
  return h(
    'form',
    { class: 'inline-form edit-pool', onSubmit: (ev: Event) => void submit(ev), 'aria-label': `edit pool ${pool.id}` },
    h('label', null, 'Description', h('input', { name: 'description', defaultValue: was.description })),
    h('label', null, 'Default weight', h('input', { name: 'defaultWeight', defaultValue: was.defaultWeight, inputMode: 'decimal', size: 6 })),
    h('label', null, 'Largest weight', h('input', { name: 'maxWeight', defaultValue: was.maxWeight, inputMode: 'decimal', size: 6 })),
    h('label', null, 'Executors (empty: all)', h('input', { name: 'executors', defaultValue: was.executors, placeholder: 'docker, subprocess' })),
    h('label', { title: STANDARD_HELP }, 'Standard agent (empty: none)', h('input', { name: 'standard', defaultValue: was.standard, placeholder: 'cpus=2,memory=4Gi' })),
    h('label', { title: SECRETS_HELP }, 'Secrets (empty: any)', h('input', { name: 'secrets', defaultValue: was.secrets, placeholder: 'ingest_*, DB_PASSWORD' })),
    h('button', { type: 'submit', disabled: busy }, busy ? 'Saving…' : 'Save'),
    h('button', { type: 'button', onClick: onDone }, 'Close'),
    h(ErrorLine, { error }),
  );
}

/** Deleting: a second step, and a forced delete (cancelling the queued jobs) offered when some are queued. */
function DeletePool({ pool, onDone, onKeep }: { pool: PoolView; onDone: () => void; onKeep: () => void }) {
  const del = (force: boolean) => () => post(`/api/pools/${encodeURIComponent(pool.id)}/delete`, { force });
  return h(
    'span',
    { class: 'actions confirm' },
    h(ActionButton, { label: `Delete ${pool.id}`, kind: 'danger', action: del(false), onDone }),
    pool.jobsQueued > 0 ? h(ActionButton, { label: `Delete and cancel its ${formatCount(pool.jobsQueued, 'queued job')}`, kind: 'danger', action: del(true), onDone }) : null,
    h('button', { type: 'button', onClick: onKeep }, 'Keep it'),
  );
}

function Reservation({ r }: { r: NonNullable<PoolView['reservation']> }) {
  return h(
    'dd',
    { class: 'reservation' },
    'job ',
    h('a', { href: href('jobs', r.jobId) }, r.jobId),
    ` (weight ${r.weight}) since `,
    h('time', { title: r.sinceTime, dateTime: r.sinceTime.replace(' ', 'T') }, r.since),
    r.agentId ? ` on ${r.agentId}` : '',
  );
}

function PoolCard({ pool, canWrite, reload }: { pool: PoolView; canWrite: boolean; reload: () => void }) {
  const [mode, setMode] = useState<'view' | 'edit' | 'delete'>('view');
  const done = () => {
    setMode('view');
    reload();
  };
  return h(
    'article',
    { class: 'card pool', 'data-pool': pool.id, 'aria-label': `pool ${pool.id}` },
    h('header', { class: 'card-head' }, h('h3', null, pool.id), pool.isDefault ? h('span', { class: 'chip default' }, 'default') : null, h(Badge, { word: pool.health })),
    pool.description ? h('p', { class: 'muted' }, pool.description) : null,
    h(Bar, { used: pool.weightInUseMilli, total: pool.capacityMilli, label: `weight in use ${pool.weightInUse} of capacity ${pool.capacity}` }),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'weight in use'),
      h('dd', null, `${pool.weightInUse} of ${pool.capacity}`),
      h('dt', null, 'agents'),
      h('dd', null, h('a', { href: `#/agents?pool=${encodeURIComponent(pool.id)}` }, `${pool.liveAgents} live`), pool.drainingAgents ? `, ${pool.drainingAgents} draining` : '', pool.lostAgents ? `, ${pool.lostAgents} lost` : ''),
      h('dt', null, 'jobs'),
      h('dd', null, h('a', { href: `#/jobs?pool=${encodeURIComponent(pool.id)}&state=queued` }, `${formatCount(pool.jobsQueued)} queued`), ', ', h('a', { href: `#/jobs?pool=${encodeURIComponent(pool.id)}&state=running` }, `${formatCount(pool.jobsRunning)} running`)),
      h('dt', null, 'job weights'),
      h('dd', null, `default ${pool.defaultWeight}, at most ${pool.maxWeight}`),
      h('dt', null, 'executors'),
      h('dd', null, pool.executors.length ? pool.executors.join(', ') : 'all'),
      h('dt', null, 'standard agent'),
      h('dd', { class: 'standard' }, standardText(pool)),
      h('dt', null, 'secrets'),
      h('dd', { class: 'secrets' }, secretsText(pool)),
      pool.reservation ? [h('dt', null, 'reservation'), h(Reservation, { r: pool.reservation })] : null,
    ),
    canWrite
      ? h(
          'footer',
          { class: 'card-actions' },
          mode === 'edit'
            ? h(EditPool, { pool, onDone: done })
            : mode === 'delete'
              ? h(DeletePool, { pool, onDone: done, onKeep: () => setMode('view') })
              : [
                  h('button', { type: 'button', key: 'edit', onClick: () => setMode('edit') }, 'Edit'),
                  pool.isDefault ? null : h(ActionButton, { key: 'default', label: 'Make default', action: () => post(`/api/pools/${encodeURIComponent(pool.id)}/default`), onDone: reload }),
                  h('button', { type: 'button', key: 'delete', onClick: () => setMode('delete') }, 'Delete…'),
                ],
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
    const body = newPoolBody(reader(f), f.get('makeDefault') === 'on');
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
    h('label', null, 'Executors (empty: all)', h('input', { name: 'executors', placeholder: 'docker, subprocess' })),
    h('label', { title: STANDARD_HELP }, 'Standard agent (empty: none)', h('input', { name: 'standard', placeholder: 'cpus=2,memory=4Gi' })),
    h('label', { title: SECRETS_HELP }, 'Secrets (empty: any)', h('input', { name: 'secrets', placeholder: 'ingest_*, DB_PASSWORD' })),
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
