import { LongshoreError, parseBytes, parseDockerAllow, parseDurationMs, parseLanes, parseMilli, validateDnsLabel } from '@longshore/domain';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { redisUrlProblem } from './redis-endpoint.js';

export { ConfigError };

/** Wraps a domain parser so zod reports its message against the variable. */
function via<T>(parse: (field: string, text: string) => T) {
  return z.string().transform((text, ctx) => {
    try {
      return parse('', text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof LongshoreError ? err.message.replace(/^: /, '') : String(err) });
      return z.NEVER;
    }
  });
}

/** Field types shared by every service's schema. */
export const env = {
  duration: () => via(parseDurationMs),
  bytes: () => via(parseBytes),
  milli: () => via(parseMilli),
  lanes: () => via(parseLanes),
  dnsLabel: () => via(validateDnsLabel),
  dockerAllow: () => via((_field, text) => parseDockerAllow(text)),
  int: (min: number, max: number) =>
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(min).max(max)),
  address: () => z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT (e.g. 127.0.0.1:7400)'),
  redisUrl: () =>
    z.string().superRefine((text, ctx) => {
      const problem = redisUrlProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
};

/**
 * Reads the variables a schema names from `source`, applying defaults (given as the text a user
 * would write), validates them, and returns a frozen object. Throws {@link ConfigError} listing
 * every bad variable with what is expected.
 */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  defaults: { [K in keyof S]?: string },
  source: NodeJS.ProcessEnv,
): Readonly<z.infer<z.ZodObject<S>>> {
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.keys(shape)) {
    const v = source[name];
    raw[name] = v === undefined || v === '' ? defaults[name as keyof S] : v;
  }
  const res = z.object(shape).safeParse(raw);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${String(i.path[0])}=${JSON.stringify(hidePassword(raw[String(i.path[0])] ?? ''))}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(res.data);
}

/** A value as error messages show it: a URL's password (`//user:password@`) becomes `***`. */
function hidePassword(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
