/// <reference lib="dom" />
import { h } from 'preact';
import type { JobDetailView, PoolView } from '../api-types.js';
import { get, post } from './api.js';
import { argvLines, keyValueLines } from './form-fields.js';
import { href } from './state.js';
import { ErrorLine, Section, useAction, usePoll } from './widgets.js';

/** The submit form: the fields people set most, sent as a job spec; opens the job on success. */
export function SubmitView() {
  const pools = usePoll((signal) => get<PoolView[]>('/api/pools', signal), 'pools');
  const { busy, error, run } = useAction();
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const s = (k: string) => String(f.get(k) ?? '');
    await run(async () => {
      const job = await post<JobDetailView>('/api/jobs', {
        pool: s('pool'),
        command: argvLines(s('command')),
        weight: s('weight'),
        timeout: s('timeout'),
        maxAttempts: s('maxAttempts'),
        priority: s('priority'),
        labels: keyValueLines('labels', s('labels')),
        env: keyValueLines('env', s('env')),
      });
      location.hash = href('jobs', job.id);
    });
  };
  return h(
    Section,
    { title: 'Submit a job' },
    h(
      'form',
      { class: 'stack-form', onSubmit: (ev: Event) => void submit(ev), 'aria-label': 'submit a job' },
      h(
        'label',
        null,
        'Pool',
        h('select', { name: 'pool' }, h('option', { value: '' }, 'the default pool'), (pools.data ?? []).map((p) => h('option', { key: p.id, value: p.id }, p.id, p.isDefault ? ' (default)' : ''))),
      ),
      h('label', null, 'Command: the program, then one argument per line (no shell unless you name one)', h('textarea', { name: 'command', required: true, rows: 4, placeholder: 'sh\n-c\necho hello; sleep 2; echo bye', spellcheck: false })),
      h(
        'div',
        { class: 'row' },
        h('label', null, 'Weight', h('input', { name: 'weight', placeholder: 'pool default, e.g. 0.25', inputMode: 'decimal' })),
        h('label', null, 'Timeout', h('input', { name: 'timeout', placeholder: 'e.g. 30s, 5m' })),
        h('label', null, 'Max attempts', h('input', { name: 'maxAttempts', placeholder: 'default', inputMode: 'numeric' })),
        h('label', null, 'Priority', h('input', { name: 'priority', placeholder: '0', inputMode: 'numeric' })),
      ),
      h('label', null, 'Labels, one KEY=VALUE a line', h('textarea', { name: 'labels', rows: 2, placeholder: 'team=data', spellcheck: false })),
      h('label', null, 'Environment, one NAME=VALUE a line (${SECRET} references resolve on the agent)', h('textarea', { name: 'env', rows: 2, spellcheck: false })),
      h('button', { type: 'submit', disabled: busy }, busy ? 'Submitting…' : 'Submit'),
      h(ErrorLine, { error }),
    ),
  );
}
