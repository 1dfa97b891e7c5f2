/// <reference lib="dom" />
import { h, render } from 'preact';
import { post, session } from './api.js';
import { App } from './app.js';

/**
 * A link `longshore up` printed (`#login=CODE`) signs this tab in: the code is traded for the
 * local admin token once, and removed from the address bar and history at once.
 */
async function redeemLoginLink(): Promise<string | undefined> {
  const m = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return undefined;
  history.replaceState(null, '', `${location.pathname}#/pools`);
  try {
    const { token } = await post<{ token: string }>('/api/login', { code: m[1] });
    session.signIn(token);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

async function start(): Promise<void> {
  const loginError = await redeemLoginLink();
  const root = document.getElementById('app')!;
  root.textContent = '';
  render(h(App, null), root);
  if (loginError) root.insertAdjacentElement('afterbegin', Object.assign(document.createElement('p'), { className: 'error', textContent: loginError }));
}

void start();
