// The console's addresses, the part after `#/`: no DOM here, so tests run in Node.

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
