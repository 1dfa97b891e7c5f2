import { formatSecretRef, parseSecretTemplate, renderSecretTemplate, type SecretRef, type SecretUse } from '@longshore/domain';
import { SecretReadError, type SecretProvider, type SecretValue } from './provider.js';

/** A job's env with its secret references resolved, and what was used (for the attempt record and redaction). */
export interface ResolvedEnv {
  /** The env the job runs with: references replaced by values. Never stored, logged or traced. */
  env: Record<string, string>;
  /** Each secret used, once, with its provider and version; sorted by name. */
  uses: SecretUse[];
  /** Every value used (whole secrets and the JSON fields picked from them), for the log's redactor. */
  values: string[];
}

/**
 * A job's secret could not be resolved: the attempt ends `start_failed`. The message names the
 * secret and each provider tried with what it found; it never holds a value.
 */
export class SecretResolutionError extends Error {
  override name = 'SecretResolutionError';
}

/** The field `key` of a JSON secret, as text; throws naming the secret and key, never the value. */
function pickField(ref: SecretRef & { key: string }, from: string, raw: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretResolutionError(`secret ${formatSecretRef(ref)}: ${ref.name} (from ${from}) is not JSON, so it has no field "${ref.key}": reference it as \${${ref.name}}`);
  }
  const field = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[ref.key] : undefined;
  if (typeof field === 'string') return field;
  if (typeof field === 'number' || typeof field === 'boolean') return String(field);
  throw new SecretResolutionError(`secret ${formatSecretRef(ref)}: ${ref.name} (from ${from}) has no string field "${ref.key}"`);
}

/**
 * Resolves the `${NAME}` references of a job's env from the agent's providers, asked in order:
 * the first that has a name gives it. A provider that has it but cannot give it (unreadable, too
 * big, refused) ends the search with an error rather than falling through to a later provider,
 * which might hold a different secret of the same name.
 */
export class SecretResolver {
  constructor(readonly providers: readonly SecretProvider[]) {}

  async resolveEnv(env: Record<string, string>, signal?: AbortSignal): Promise<ResolvedEnv> {
    const templates = Object.entries(env).map(([name, value]) => [name, parseSecretTemplate(`env.${name}`, value)] as const);
    const names = new Set<string>();
    for (const [, parts] of templates) for (const p of parts) if ('ref' in p) names.add(p.ref.name);
    if (names.size === 0) return { env, uses: [], values: [] };
    const found = new Map<string, { provider: string; secret: SecretValue }>();
    for (const name of [...names].sort()) found.set(name, await this.find(name, signal));
    const values = new Set<string>([...found.values()].map((f) => f.secret.value));
    const out: Record<string, string> = {};
    for (const [name, parts] of templates) {
      out[name] = renderSecretTemplate(parts, (ref) => {
        const f = found.get(ref.name)!;
        if (ref.key === undefined) return f.secret.value;
        const field = pickField({ ...ref, key: ref.key }, f.provider, f.secret.value);
        values.add(field);
        return field;
      });
      // Spawning with a NUL in the env fails with an error that quotes the value: refuse it here, without it.
      if (out[name].includes('\0')) {
        throw new SecretResolutionError(`env.${name}: a secret it references (${parts.flatMap((p) => ('ref' in p ? [formatSecretRef(p.ref)] : [])).join(', ')}) contains a NUL byte, which an environment variable cannot hold`);
      }
    }
    const uses = [...found].map(([name, f]) => ({ name, provider: f.provider, version: f.secret.version }));
    return { env: out, uses, values: [...values] };
  }

  private async find(name: string, signal?: AbortSignal): Promise<{ provider: string; secret: SecretValue }> {
    const tried: string[] = [];
    for (const p of this.providers) {
      let secret: SecretValue | undefined;
      try {
        secret = await p.get(name, signal);
      } catch (err) {
        const why = err instanceof SecretReadError ? err.message : `${p.name} failed: ${(err as Error).message}`;
        throw new SecretResolutionError(`secret ${name} could not be read from ${p.name}: ${why}${tried.length ? ` (not found before that in ${tried.join(', ')})` : ''}`);
      }
      if (secret) return { provider: p.name, secret };
      tried.push(`${p.name} (${p.describe(name)})`);
    }
    if (this.providers.length === 0) throw new SecretResolutionError(`secret ${name} was referenced, but this agent has no secret providers (LONGSHORE_SECRET_PROVIDERS is empty)`);
    throw new SecretResolutionError(`secret ${name} was not found in any provider of this agent: tried ${tried.join(', ')}`);
  }
}
