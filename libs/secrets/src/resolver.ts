import { formatSecretRef, parseSecretTemplate, renderSecretTemplate, secretsManagerValueFrom, type EcsSecret, type SecretRef, type SecretTemplatePart, type SecretUse } from '@longshore/domain';
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
 * An ECS job's env with its secret references turned into the task definition's `secrets`: ECS
 * fetches each value itself when it starts the task, so no value travels in RunTask's overrides.
 */
export interface EcsResolvedEnv extends ResolvedEnv {
  /** The variables without references (a `$${` unescaped): they go in the overrides. */
  env: Record<string, string>;
  /** One entry per variable that is a reference, sorted by variable: its Secrets Manager ARN pinned to the version resolved. */
  secrets: EcsSecret[];
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

/** A secret as one provider gave it. */
interface Found {
  provider: string;
  secret: SecretValue;
}

/** What an attempt records of the secrets it used: each name once, with provider and version; sorted by name. */
function usesOf(found: Map<string, Found>): SecretUse[] {
  return [...found].map(([name, f]) => ({ name, provider: f.provider, version: f.secret.version }));
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
    const { templates, found } = await this.findAll(env, signal);
    // Without references the values still lose their escapes: `$${X}` is `${X}`.
    if (found.size === 0) return { env: Object.fromEntries(templates.map(([name, parts]) => [name, renderSecretTemplate(parts, () => '')])), uses: [], values: [] };
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
    return { env: out, uses: usesOf(found), values: [...values] };
  }

  /**
   * Resolves an ECS job's references into its task definition's `secrets`: each variable that
   * references a secret must be that reference alone (`${NAME}` or `${NAME#key}`), resolved from
   * Secrets Manager (the `aws` provider), and becomes `{ name, valueFrom: <ARN pinned to the
   * VersionId> }`. A JSON field is checked here, so a missing one fails the start rather than the
   * task. The values are still read: the job's log is masked with them.
   *
   * @throws SecretResolutionError naming the variable and why, for a reference inside a longer
   *   value, or a secret that another provider (env, files) gave: ECS can only inject a whole
   *   value it fetches itself, and any other value would travel in RunTask's overrides, which
   *   DescribeTasks shows.
   */
  async resolveForEcs(env: Record<string, string>, signal?: AbortSignal): Promise<EcsResolvedEnv> {
    for (const [name, value] of Object.entries(env)) {
      const parts = parseSecretTemplate(`env.${name}`, value);
      if (parts.length > 1 && parts.some((p) => 'ref' in p)) {
        throw new SecretResolutionError(`env.${name}: an ECS job gets a secret through its task definition's secrets, which set a variable to a whole secret only: reference it alone (\${NAME}), not inside a longer value`);
      }
    }
    const { templates, found } = await this.findAll(env, signal);
    const out: Record<string, string> = {};
    const secrets: EcsSecret[] = [];
    const values = new Set<string>([...found.values()].map((f) => f.secret.value));
    for (const [name, parts] of templates) {
      const only = parts[0];
      if (parts.length !== 1 || !only || !('ref' in only)) {
        out[name] = renderSecretTemplate(parts, () => '');
        continue;
      }
      const f = found.get(only.ref.name)!;
      if (f.provider !== 'aws' || !f.secret.arn) {
        throw new SecretResolutionError(
          `env.${name}: secret ${only.ref.name} comes from the ${f.provider} provider on this agent, but an ECS job gets its secrets from Secrets Manager only, through its task definition's secrets (a value from elsewhere would travel in RunTask's overrides, which DescribeTasks shows): put it in Secrets Manager and list aws first in LONGSHORE_SECRET_PROVIDERS`,
        );
      }
      if (only.ref.key !== undefined) values.add(pickField({ ...only.ref, key: only.ref.key }, f.provider, f.secret.value));
      secrets.push({ name, valueFrom: secretsManagerValueFrom(f.secret.arn, only.ref, f.secret.version) });
    }
    secrets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { env: out, secrets, uses: usesOf(found), values: [...values] };
  }

  /** Each env value split into its parts, and every name referenced found in the providers. */
  private async findAll(env: Record<string, string>, signal?: AbortSignal): Promise<{ templates: (readonly [string, SecretTemplatePart[]])[]; found: Map<string, Found> }> {
    const templates = Object.entries(env).map(([name, value]) => [name, parseSecretTemplate(`env.${name}`, value)] as const);
    const names = new Set<string>();
    for (const [, parts] of templates) for (const p of parts) if ('ref' in p) names.add(p.ref.name);
    const found = new Map<string, Found>();
    for (const name of [...names].sort()) found.set(name, await this.find(name, signal));
    return { templates, found };
  }

  private async find(name: string, signal?: AbortSignal): Promise<Found> {
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
