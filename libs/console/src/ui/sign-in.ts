/// <reference lib="dom" />
import { h } from 'preact';
import { session } from './api.js';
import { signInNeeded } from './state.js';

/** Asks for a token (`longshore tokens create`, or $LONGSHORE_HOME/credentials of `longshore up`). */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const submit = (ev: Event) => {
    ev.preventDefault();
    const token = String(new FormData(ev.currentTarget as HTMLFormElement).get('token') ?? '').trim();
    if (!token) return;
    session.signIn(token);
    signInNeeded.value = false;
    onSignedIn();
  };
  return h(
    'section',
    { class: 'panel sign-in' },
    h('h2', null, 'Sign in'),
    h('p', null, 'This cluster needs a token. Paste one made with ', h('code', null, 'longshore tokens create'), ' (a reader token can look but not change anything). It stays in this tab only.'),
    h(
      'form',
      { class: 'inline-form', onSubmit: submit, 'aria-label': 'sign in' },
      h('label', null, 'Token', h('input', { name: 'token', type: 'password', autocomplete: 'off', required: true, autoFocus: true })),
      h('button', { type: 'submit' }, 'Sign in'),
    ),
  );
}
