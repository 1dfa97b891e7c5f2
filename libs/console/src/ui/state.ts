/// <reference lib="dom" />
import { signal } from '@preact/signals';
import type { WhoAmIView } from '../api-types.js';
import { parseRoute, type Route } from './routes.js';

export { href, parseRoute, type Route } from './routes.js';

export const route = signal<Route>(parseRoute(location.hash));
window.addEventListener('hashchange', () => (route.value = parseRoute(location.hash)));

/** Who the token in use is; undefined until known. */
export const me = signal<WhoAmIView | undefined>(undefined);
/** True when the cluster wants a token and this tab has none that works. */
export const signInNeeded = signal(false);
