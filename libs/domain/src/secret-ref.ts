import { InvalidArgumentError } from './errors/index.js';

/**
 * A secret's name as a job references it: a letter or `_`, then up to 127 letters, digits or `_`
 * (also what the files provider uses as a file name, so no name can leave its directory).
 */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Where an agent looks for secrets, in the order `LONGSHORE_SECRET_PROVIDERS` gives. */
export const SECRET_PROVIDERS = ['env', 'files', 'aws'] as const;
export type SecretProviderName = (typeof SECRET_PROVIDERS)[number];

/** An agent's secret settings (`LONGSHORE_SECRET_*`, read and checked in libs/config, used by libs/secrets). */
export interface SecretsSettings {
  /** LONGSHORE_SECRET_PROVIDERS: asked in this order; default env,files (and aws when AWS_REGION is set). */
  providers: readonly SecretProviderName[];
  /** LONGSHORE_SECRET_ENV_PREFIX: `${X}` reads the agent's `<prefix>X`. */
  envPrefix: string;
  /** LONGSHORE_SECRETS_DIR: one file per name. */
  dir: string;
  /** LONGSHORE_SECRET_MAX_BYTES: a bigger file is refused. */
  maxBytes: number;
  /** LONGSHORE_SECRET_TTL: how long a Secrets Manager value is used before it is fetched again. */
  ttlMs: number;
  /** LONGSHORE_SECRET_AWS_PREFIX: the secret id of `${X}` is `<prefix>X`. */
  awsPrefix: string;
  /** AWS_REGION, when set; the aws provider is listed only then. */
  awsRegion?: string | undefined;
}

/** The field of a JSON secret a reference may pick (`${NAME#key}`). */
const SECRET_KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/** One `${NAME}` or `${NAME#key}` in a string. */
export interface SecretRef {
  name: string;
  /** The JSON field to pick from the secret's value; absent = the whole value. */
  key?: string;
}

/** A string split into literal text and secret references, in order. */
export type SecretTemplatePart = { text: string } | { ref: SecretRef };

/** How a reference is written, for messages: `DB#password`. */
export function formatSecretRef(ref: SecretRef): string {
  return ref.key === undefined ? ref.name : `${ref.name}#${ref.key}`;
}

/** The text of a reference as shown in a message: printable and at most 80 characters. */
function shown(inner: string): string {
  return JSON.stringify(inner.slice(0, 80));
}

function parseRef(field: string, inner: string): SecretRef {
  const hash = inner.indexOf('#');
  const name = hash === -1 ? inner : inner.slice(0, hash);
  const key = hash === -1 ? undefined : inner.slice(hash + 1);
  if (!SECRET_NAME.test(name)) {
    throw new InvalidArgumentError(
      field,
      `secret reference \${${shown(inner).slice(1, -1)}} is not a secret name: use 1-128 letters, digits and _, not starting with a digit (e.g. \${DB_PASSWORD} or \${DB#password}); write $\${…} for a literal \${…}`,
    );
  }
  if (key !== undefined && !SECRET_KEY.test(key)) {
    throw new InvalidArgumentError(field, `secret reference \${${shown(inner).slice(1, -1)}} has a bad JSON key: use 1-128 letters, digits, _, . or - after # (e.g. \${DB#password})`);
  }
  return key === undefined ? { name } : { name, key };
}

/**
 * Splits `value` into text and secret references: `${NAME}` and `${NAME#key}` are references,
 * `$${` is a literal `${`, any other `$` is itself. Throws {@link InvalidArgumentError} on
 * `field` for a reference that is not a name (`${../x}`, `${a/b}`, `${}`, NUL) or is not closed.
 */
export function parseSecretTemplate(field: string, value: string): SecretTemplatePart[] {
  const parts: SecretTemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    const at = value.indexOf('$', i);
    if (at === -1) {
      text += value.slice(i);
      break;
    }
    text += value.slice(i, at);
    if (value.startsWith('$${', at)) {
      text += '${';
      i = at + 3;
    } else if (value.startsWith('${', at)) {
      const close = value.indexOf('}', at + 2);
      if (close === -1) throw new InvalidArgumentError(field, `secret reference ${shown(value.slice(at, at + 40))} is not closed with }: write \${NAME}, or $\${ for a literal \${`);
      if (text) parts.push({ text });
      text = '';
      parts.push({ ref: parseRef(field, value.slice(at + 2, close)) });
      i = close + 1;
    } else {
      text += '$';
      i = at + 1;
    }
  }
  if (text || parts.length === 0) parts.push({ text });
  return parts;
}

/** The references in `value` (see {@link parseSecretTemplate}), in order, repeats included. */
export function secretRefsIn(field: string, value: string): SecretRef[] {
  return parseSecretTemplate(field, value).flatMap((p) => ('ref' in p ? [p.ref] : []));
}

/** Puts a template back together, each reference replaced by what `valueOf` gives for it. */
export function renderSecretTemplate(parts: SecretTemplatePart[], valueOf: (ref: SecretRef) => string): string {
  return parts.map((p) => ('ref' in p ? valueOf(p.ref) : p.text)).join('');
}

/**
 * The secret names a job's env values reference, each once, sorted. Only env values are
 * resolved: argv and build steps keep their text (`sh -c 'echo ${HOME}'` means what the shell says).
 */
export function secretNamesOf(env: Record<string, string>): string[] {
  const names = new Set<string>();
  for (const [name, value] of Object.entries(env)) for (const ref of secretRefsIn(`env.${name}`, value)) names.add(ref.name);
  return [...names].sort();
}

/**
 * Refuses a secret reference in a Docker build arg: build args are set while the build steps run,
 * and a value there would be baked into a cached image layer that any later job can read.
 */
export function refuseSecretRefs(field: string, value: string, fix: string): void {
  const refs = secretRefsIn(field, value);
  if (refs.length > 0) throw new InvalidArgumentError(field, `references secret \${${formatSecretRef(refs[0]!)}}, which is not allowed here: ${fix}`);
}

/**
 * Whether `name` is allowed by a pool's secret allow-list: entries are names or patterns with
 * `*` (any run of name characters), e.g. `ingest_*`. An empty list allows every name.
 */
export function secretAllowed(name: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => (p.includes('*') ? new RegExp(`^${p.split('*').map(escapeRegExp).join('[A-Za-z0-9_]*')}$`).test(name) : p === name));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A secret allow-list pattern: a name in which `*` may stand for any run of name characters. */
const SECRET_PATTERN = /^[A-Za-z_*][A-Za-z0-9_*]{0,127}$/;

/**
 * Validates a pool's secret allow-list (`ingest_*,DB_PASSWORD`) and returns it deduplicated;
 * throws {@link InvalidArgumentError} on `field` naming the bad entry.
 */
export function validateSecretPatterns(field: string, patterns: readonly string[]): string[] {
  if (patterns.length > 128) throw new InvalidArgumentError(field, `has ${patterns.length} entries; at most 128 are allowed`);
  for (const p of patterns) {
    if (!SECRET_PATTERN.test(p)) throw new InvalidArgumentError(field, `${shown(p)} is not a secret name or pattern: use letters, digits, _ and * (e.g. ingest_*,DB_PASSWORD)`);
  }
  return [...new Set(patterns)];
}
