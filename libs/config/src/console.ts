import { z } from 'zod';
import { env, parseEnv } from './parse-env.js';

/** Where the web console listens unless LONGSHORE_CONSOLE_ADDR says otherwise (loopback only). */
export const DEFAULT_CONSOLE_ADDR = '127.0.0.1:7480';

/** The web console's settings (`longshore console`, and the console `longshore up` serves). */
export interface ConsoleConfig {
  /** HOST:PORT the console's HTTP server binds (LONGSHORE_CONSOLE_ADDR). */
  readonly listen: string;
  /** A link template for trace ids naming `{trace_id}` (LONGSHORE_TRACE_URL), when set. */
  readonly traceUrl: string | undefined;
}

const traceUrlField = z
  .string()
  .refine((t) => /^https?:\/\/[^\s]+$/.test(t) && t.includes('{trace_id}'), 'must be an http(s) URL naming {trace_id} (e.g. http://jaeger:16686/trace/{trace_id})')
  .optional();

/** Reads LONGSHORE_CONSOLE_ADDR and LONGSHORE_TRACE_URL, failing fast with the variable's name. */
export function loadConsoleConfig(source: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const e = parseEnv(
    {
      LONGSHORE_CONSOLE_ADDR: env.address().refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, 'the port must be at most 65535'),
      LONGSHORE_TRACE_URL: traceUrlField,
    },
    { LONGSHORE_CONSOLE_ADDR: DEFAULT_CONSOLE_ADDR },
    source,
  );
  return Object.freeze({ listen: e.LONGSHORE_CONSOLE_ADDR, traceUrl: e.LONGSHORE_TRACE_URL?.trim() || undefined });
}
