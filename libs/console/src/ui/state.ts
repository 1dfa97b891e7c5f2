/// <reference lib="dom" />
import { signal } from '@preact/signals';
import type { WhoAmIView } from '../api-types.js';

/** Where the user is: the part after `#/` in the address, split into a path and its query. */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

/** Parses `#/jobs/ID?x=y` into ['jobs', 'ID'] and its query; the pools page by default. */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = (q < 0 ? text : text.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
  return { path: path.length ? path : ['pools'], query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) };
}

/** The address of a route, for links: href('jobs', id) → "#/jobs/ID". */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

export const route = signal<Route>(parseRoute(location.hash));
window.addEventListener('hashchange', () => (route.value = parseRoute(location.hash)));

/** Who the token in use is; undefined until known. */
export const me = signal<WhoAmIView | undefined>(undefined);
/** True when the cluster wants a token and this tab has none that works. */
export const signInNeeded = signal(false);
