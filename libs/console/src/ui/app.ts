/// <reference lib="dom" />
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { WhoAmIView } from '../api-types.js';
import { get, session } from './api.js';
import { AgentsView } from './agents-view.js';
import { JobView } from './job-view.js';
import { JobsView } from './jobs-view.js';
import { PoolsView } from './pools-view.js';
import { SignIn } from './sign-in.js';
import { me, route, signInNeeded } from './state.js';
import { SubmitView } from './submit-view.js';
import { ErrorLine, noteFailure } from './widgets.js';

const NAV: [string, string][] = [
  ['pools', 'Pools'],
  ['agents', 'Agents'],
  ['jobs', 'Jobs'],
  ['submit', 'Submit'],
];

/** Pause before asking who the user is again, when the console or the cluster could not say. */
const WHOAMI_RETRY_MS = 3000;

function Page() {
  const [section, id] = route.value.path;
  if (section === 'agents') return h(AgentsView, null);
  if (section === 'jobs' && id) return h(JobView, { id, key: id });
  if (section === 'jobs') return h(JobsView, null);
  if (section === 'submit') return h(SubmitView, null);
  return h(PoolsView, null);
}

/** The console: a header with the sections and who is signed in, then the section shown. */
export function App() {
  const [error, setError] = useState<unknown>(undefined);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    get<WhoAmIView>('/api/whoami')
      .then((who) => {
        me.value = who;
        signInNeeded.value = false;
        setError(undefined);
      })
      .catch((err: unknown) => setError(noteFailure(err)));
  }, [attempt]);
  // Not signed in because the cluster (or the console server) cannot be reached: the message
  // stays shown, and the page asks again until it can, so it needs no reload.
  const retrying = !!error && !signInNeeded.value && !me.value;
  useEffect(() => {
    if (!retrying) return undefined;
    const t = window.setTimeout(() => setAttempt((a) => a + 1), WHOAMI_RETRY_MS);
    return () => window.clearTimeout(t);
  }, [error, retrying]);
  const section = route.value.path[0];
  const who = me.value;
  const main = useRef<HTMLElement>(null);
  // Keyboard users land in the new page's content when they follow a link, not at the top again.
  const shown = route.value.path.join('/');
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus({ preventScroll: true });
  }, [shown]);
  const skip = (ev: Event) => {
    ev.preventDefault(); // the address is the route: "#content" would leave the page
    main.current?.focus();
  };
  return h(
    'div',
    { class: 'shell' },
    h('a', { class: 'skip', href: '#', onClick: skip }, 'Skip to content'),
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/pools' }, 'Longshore'),
      h('nav', { 'aria-label': 'sections' }, NAV.map(([key, label]) => h('a', { key, href: `#/${key}`, 'aria-current': section === key ? 'page' : undefined }, label))),
      who
        ? h(
            'span',
            { class: 'who' },
            `${who.name || 'signed in'} (${who.role})`,
            session.token()
              ? h('button', { type: 'button', class: 'link', onClick: () => { session.signOut(); me.value = undefined; signInNeeded.value = true; } }, 'Sign out')
              : null,
          )
        : null,
    ),
    h(
      'main',
      { id: 'content', ref: main, tabIndex: -1 },
      signInNeeded.value ? h(SignIn, { onSignedIn: () => setAttempt((a) => a + 1) }) : who ? h(Page, null) : h(ErrorLine, { error }),
      !signInNeeded.value && !who && !error ? h('p', { class: 'muted' }, 'Connecting…') : null,
      retrying ? h('p', { class: 'muted retrying' }, `Trying again every ${WHOAMI_RETRY_MS / 1000} s…`) : null,
    ),
  );
}
