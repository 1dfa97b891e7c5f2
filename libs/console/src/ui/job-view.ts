/// <reference lib="dom" />
import { h } from 'preact';
import { useState } from 'preact/hooks';
import type { JobDetailView } from '../api-types.js';
import { post } from './api.js';
import { useStream } from './live.js';
import { LogTail } from './log-view.js';
import { href, me } from './state.js';
import { ActionButton, Badge, Cell, ErrorLine, Labels, Section } from './widgets.js';

function Attempts({ job }: { job: JobDetailView }) {
  if (job.attempts.length === 0) return h('p', { class: 'muted' }, 'No attempt yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'attempts stack' },
      h('thead', null, h('tr', null, ['#', 'Agent', 'Executor', 'Started', 'Finished', 'Ran for', 'Exit', 'Failure', 'Why'].map((t) => h('th', { key: t, scope: 'col' }, t)))),
      h(
        'tbody',
        null,
        job.attempts.map((a) =>
          h(
            'tr',
            { key: a.number },
            h(Cell, { label: '#' }, a.number),
            h(Cell, { label: 'Agent' }, a.agentId || '-'),
            h(Cell, { label: 'Executor', title: a.executorReason }, a.executor),
            h(Cell, { label: 'Started' }, a.started),
            h(Cell, { label: 'Finished' }, a.finished),
            h(Cell, { label: 'Ran for', class: 'num' }, a.duration),
            h(Cell, { label: 'Exit', class: 'num' }, a.exitCode ?? '-'),
            h(Cell, { label: 'Failure' }, a.handedBack ? 'handed back' : a.failureClass || '-'),
            h(Cell, { label: 'Why' }, a.message || '-'),
          ),
        ),
      ),
    ),
  );
}

/** One job: its spec, state, attempts, trace link, cancel and retry, and its log followed live. */
export function JobView({ id }: { id: string }) {
  const [job, setJob] = useState<JobDetailView | undefined>(undefined);
  // A retry brings a finished job back: the streams, which ended with it, then start again.
  const [generation, setGeneration] = useState(0);
  const error = useStream(`job:${id}:${generation}`, () => `/api/jobs/${encodeURIComponent(id)}/watch`, (e) => {
    if (e.event === 'job') setJob(JSON.parse(e.data) as JobDetailView);
  });
  const canWrite = me.value?.canWrite ?? false;
  const shown = job?.id === id ? job : undefined;
  return h(
    Section,
    {
      title: `Job ${id}`,
      actions: shown && canWrite
        ? h(
            'span',
            { class: 'actions' },
            shown.finished ? null : h(ActionButton, { label: 'Cancel', kind: 'danger', action: async () => setJob(await post<JobDetailView>(`/api/jobs/${encodeURIComponent(id)}/cancel`)) }),
            shown.finished && shown.state !== 'succeeded'
              ? h(ActionButton, { label: 'Retry', action: async () => {
                    setJob(await post<JobDetailView>(`/api/jobs/${encodeURIComponent(id)}/retry`));
                    setGeneration((g) => g + 1);
                  } })
              : null,
          )
        : null,
    },
    h(ErrorLine, { error }),
    shown
      ? [
          h(
            'dl',
            { class: 'facts wide', key: 'facts' },
            h('dt', null, 'state'),
            h('dd', { class: 'job-state' }, h(Badge, { word: shown.state }), shown.exitCode !== undefined ? ` exit code ${shown.exitCode}` : '', shown.failureClass ? ` (${shown.failureClass})` : ''),
            shown.message ? [h('dt', null, 'why'), h('dd', null, shown.message)] : null,
            h('dt', null, 'command'),
            h('dd', null, h('ol', { class: 'argv' }, shown.command.map((a, i) => h('li', { key: i }, h('code', null, a))))),
            h('dt', null, 'pool'),
            h('dd', null, shown.pool),
            h('dt', null, 'weight'),
            h('dd', null, shown.weight),
            h('dt', null, 'executor'),
            h('dd', null, shown.executor, shown.image ? ` · image ${shown.image}` : ''),
            shown.lane ? [h('dt', null, 'lane'), h('dd', null, shown.lane)] : null,
            h('dt', null, 'limits'),
            h('dd', null, `timeout ${shown.timeout}, memory ${shown.memory}, ${shown.maxAttempts || 'default'} attempts, priority ${shown.priority}`),
            shown.labels.length ? [h('dt', null, 'labels'), h('dd', null, h(Labels, { labels: shown.labels }))] : null,
            shown.envNames.length ? [h('dt', null, 'env'), h('dd', null, shown.envNames.join(', '))] : null,
            h('dt', null, 'created'),
            h('dd', null, shown.created, shown.duration !== '-' ? ` · ran for ${shown.duration}` : ''),
            shown.agentId ? [h('dt', null, 'agent'), h('dd', null, h('a', { href: `#/agents` }, shown.agentId))] : null,
            shown.traceId
              ? [h('dt', null, 'trace'), h('dd', null, shown.traceLink ? h('a', { href: shown.traceLink, rel: 'noopener noreferrer', target: '_blank', class: 'trace-link' }, shown.traceId) : shown.traceId)]
              : null,
          ),
          h('h3', { key: 'ah' }, 'Attempts'),
          h(Attempts, { job: shown, key: 'attempts' }),
          h('h3', { key: 'lh' }, 'Log', shown.logTruncated ? h('span', { class: 'muted' }, ' (truncated at the cluster’s log cap)') : null),
          h(LogTail, { jobId: id, generation, key: `log:${id}` }),
        ]
      : error
        ? null
        : h('p', { class: 'muted' }, 'Loading the job…'),
    h('p', null, h('a', { href: href('jobs') }, '← All jobs')),
  );
}
