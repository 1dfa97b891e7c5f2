/// <reference lib="dom" />
import type { ApiError } from '../api-types.js';
import { SseParser, type SseEvent } from './sse-parse.js';

const TOKEN_KEY = 'longshore.token';

/**
 * The user's token lives in this tab's sessionStorage, never in a cookie: a browser attaches
 * cookies to cross-site requests on its own, but a header only this page's script can add, so
 * no other site can forge a request with it; and it is gone when the tab closes. The cost (a
 * script injected into this page could read it) is what the strict CSP and text-only
 * rendering guard against.
 */
export const session = {
  token: (): string => sessionStorage.getItem(TOKEN_KEY) ?? '',
  signIn: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token.trim()),
  signOut: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** An error the console API answered with: its status and the API's own message (status 0: the console server did not answer). */
export class ApiFailure extends Error {
  override name = 'ApiFailure';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function headers(json: boolean): Record<string, string> {
  const token = session.token();
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}), accept: 'application/json' };
}

/**
 * fetch, with a failure to reach the console server itself (stopped, or the network gone) as an
 * ApiFailure that says so, instead of the browser's bare "Failed to fetch". Status 0: no answer.
 */
async function call(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new ApiFailure(0, 'Unavailable', `cannot reach the console server at ${location.host}: is it still running? (${(err as Error).message})`);
  }
}

async function failure(res: Response): Promise<ApiFailure> {
  const body = (await res.json().catch(() => undefined)) as ApiError | undefined;
  return new ApiFailure(res.status, body?.error.code ?? 'Unknown', body?.error.message ?? `${res.status} ${res.statusText}`);
}

/** GETs `path` as JSON. */
export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await call(path, { headers: headers(false), ...(signal ? { signal } : {}) });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** POSTs `body` as JSON to `path`. */
export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  const res = await call(path, { method: 'POST', headers: headers(true), body: JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/**
 * Reads a server-sent events stream at `path` with the user's token, calling `onEvent` for each
 * event, until the server ends it or `signal` aborts. Rejects with the API's error when the
 * stream cannot open.
 */
export async function stream(path: string, onEvent: (e: SseEvent) => void, signal: AbortSignal): Promise<void> {
  const res = await call(path, { headers: { ...headers(false), accept: 'text/event-stream' }, signal });
  if (!res.ok) throw await failure(res);
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const e of parser.push(value)) onEvent(e);
    }
  } finally {
    reader.releaseLock();
  }
}

/** A query string from the set fields of `params` (arrays repeat the key). */
export function query(params: Record<string, string | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) if (item) q.append(k, item);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
