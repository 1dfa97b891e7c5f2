/// <reference lib="dom" />
import { h } from 'preact';
import { useState } from 'preact/hooks';
import type { JobPageView, JobSummaryView, PoolView } from '../api-types.js';
import { get, query } from './api.js';
import { useStream } from './live.js';
import { FIRST_PAGE, nextPage, pageNumber, previousPage, type PageCursor } from './paging.js';
import { href, route } from './state.js';
import { Badge, Cell, ErrorLine, Labels, Section, usePoll } from './widgets.js';

/** The job states a filter offers, in the order jobs pass through them. */
const STATES = ['queued', 'claimed', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'orphaned'];

function JobRow({ job }: { job: JobSummaryView }) {
  const ending = job.exitCode !== undefined ? `exit ${job.exitCode}` : job.failureClass;
  return h(
    'tr',
    { 'data-job': job.id },
    h(Cell, { label: 'Job' }, h('a', { href: href('jobs', job.id) }, job.id)),
    h(Cell, { label: 'State' }, h(Badge, { word: job.state }), ending ? h('span', { class: 'muted' }, ` ${ending}`) : null),
    h(Cell, { label: 'Pool' }, job.pool),
    h(Cell, { label: 'Weight', class: 'num' }, job.weight),
    h(Cell, { label: 'Command', class: 'command' }, h('code', null, job.command.join(' '))),
    h(Cell, { label: 'Labels' }, h(Labels, { labels: job.labels })),
    h(Cell, { label: 'Created' }, job.created),
    h(Cell, { label: 'Ran for', class: 'num' }, job.duration),
  );
}

function Filters({ pools, error }: { pools: PoolView[] | undefined; error: unknown }) {
  const q = route.value.query;
  // The chosen pool stays a choice even when the list could not be had (or no longer has it).
  const poolIds = [...new Set([...(pools ?? []).map((p) => p.id), ...(q.get('pool') ? [q.get('pool')!] : [])])];
  const apply = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const labels = String(f.get('labels') ?? '').split(/[\s,]+/).filter(Boolean);
    location.hash = `#/jobs${query({ pool: String(f.get('pool') ?? ''), state: String(f.get('state') ?? ''), label: labels })}`;
  };
  return h(
    'form',
    { class: 'inline-form filters', onSubmit: apply, 'aria-label': 'filter jobs' },
    h(
      'label',
      null,
      'Pool',
      h('select', { name: 'pool', value: q.get('pool') ?? '' }, h('option', { value: '' }, 'any pool'), poolIds.map((id) => h('option', { key: id, value: id }, id))),
    ),
    error ? h('span', { class: 'error', role: 'alert' }, `pool list unavailable: ${(error as Error).message}`) : null,
    h('label', null, 'State', h('select', { name: 'state', value: q.get('state') ?? '' }, h('option', { value: '' }, 'any state'), STATES.map((s) => h('option', { key: s, value: s }, s)))),
    h('label', null, 'Labels', h('input', { name: 'labels', value: q.getAll('label').join(' '), placeholder: 'team=data' })),
    h('button', { type: 'submit' }, 'Filter'),
  );
}

/** The jobs page: filtered by pool, state and labels, paged by the server, updated live. */
export function JobsView() {
  const q = route.value.query;
  const filter = query({ pool: q.get('pool') ?? '', state: q.get('state') ?? '', label: q.getAll('label') });
  const [cursor, setCursor] = useState<{ filter: string; at: PageCursor }>({ filter, at: FIRST_PAGE });
  const at = cursor.filter === filter ? cursor.at : FIRST_PAGE; // a new filter starts at its first page
  const [page, setPage] = useState<{ key: string; view: JobPageView } | undefined>(undefined);
  // Polled, so a registry that was unreachable comes back into the pool filter by itself.
  const pools = usePoll((signal) => get<PoolView[]>('/api/pools', signal), 'pools', 15_000);
  const key = `${filter}|${at.current}`;
  const path = () => `/api/jobs/live${filter ? `${filter}&` : '?'}pageToken=${encodeURIComponent(at.current)}`;
  const error = useStream(key, path, (e) => {
    if (e.event === 'page') setPage({ key, view: JSON.parse(e.data) as JobPageView });
  });
  const view = page?.key === key ? page.view : undefined;
  return h(
    Section,
    { title: 'Jobs', actions: h('a', { class: 'button', href: '#/submit' }, 'Submit a job') },
    h(Filters, { pools: pools.data, error: pools.error }),
    h(ErrorLine, { error }),
    view
      ? view.jobs.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'jobs stack' },
              h('thead', null, h('tr', null, ['Job', 'State', 'Pool', 'Weight', 'Command', 'Labels', 'Created', 'Ran for'].map((t) => h('th', { key: t, scope: 'col' }, t)))),
              h('tbody', null, view.jobs.map((j) => h(JobRow, { key: j.id, job: j }))),
            ),
          )
        : h('p', { class: 'muted' }, 'No jobs match.')
      : h('p', { class: 'muted' }, 'Loading jobs…'),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'pages' },
      h('button', { type: 'button', disabled: at.behind.length === 0, onClick: () => setCursor({ filter, at: previousPage(at) }) }, '← Newer'),
      h('span', { class: 'page-number' }, `Page ${pageNumber(at)}`),
      h('button', { type: 'button', disabled: !view?.nextPageToken, onClick: () => view && setCursor({ filter, at: nextPage(at, view.nextPageToken) }) }, 'Older →'),
    ),
  );
}
