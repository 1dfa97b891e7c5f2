import { invalidParameter } from './errors.js';

// Hand-written readers rather than a schema library: this package may only depend on dockerode
// (no new dependencies in parallel work), and the checks are few. Each names the parameter.

/** A JSON object body as received. */
export type Input = Record<string, unknown>;

/** `input[key]` as a string, or undefined when absent; anything else is refused. */
export function optString(input: Input, key: string, max = Infinity): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`${key} must be a string`);
  if (v.length > max) throw invalidParameter(`${key} must be at most ${max} characters long, got ${v.length}`);
  return v;
}

/** `input[key]` as a non-empty string. */
export function reqString(input: Input, key: string, max = Infinity): string {
  const v = optString(input, key, max);
  if (v === undefined || v === '') throw invalidParameter(`${key} is required`);
  return v;
}

/** `input[key]` as an integer in [min, max], or undefined when absent. */
export function optInt(input: Input, key: string, min: number, max: number): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidParameter(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

/** `input[key]` as a boolean, or undefined when absent. */
export function optBool(input: Input, key: string): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidParameter(`${key} must be true or false`);
  return v;
}

/** `input[key]` as one of `values`, or undefined when absent. */
export function optEnum<T extends string>(input: Input, key: string, values: readonly T[]): T | undefined {
  const v = optString(input, key);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw invalidParameter(`${key} must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

/** `input[key]` as an array of strings, or undefined when absent. */
export function optStrings(input: Input, key: string): string[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalidParameter(`${key} must be a list of strings`);
  return v as string[];
}

/** `input[key]` as a JSON object, or undefined when absent. */
export function optObject(input: Input, key: string): Input | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParameter(`${key} must be an object`);
  return v as Input;
}

/** `input[key]` as a list of JSON objects, or undefined when absent. */
export function optObjects(input: Input, key: string): Input[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((o) => typeof o !== 'object' || o === null || Array.isArray(o))) throw invalidParameter(`${key} must be a list of objects`);
  return v as Input[];
}

/** A key/value list (`[{name, value}]`, `[{key, value}]`, or `[{name, valueFrom}]` for secrets), as a plain record. */
export function optPairs(input: Input, key: string, nameKey: 'name' | 'key', valueKey: 'value' | 'valueFrom' = 'value'): Record<string, string> | undefined {
  const list = optObjects(input, key);
  if (list === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [i, item] of list.entries()) {
    const name = item[nameKey];
    const value = item[valueKey] ?? '';
    if (typeof name !== 'string' || name === '' || typeof value !== 'string') throw invalidParameter(`${key}[${i}] must be {"${nameKey}": string, "${valueKey}": string}`);
    out[name] = value;
  }
  return out;
}

/** Offset pagination tokens (opaque to clients): the index of the next item. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

/** The offset in a token from {@link encodePageToken}; 0 without one; a foreign token is refused. */
export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const o = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown }).o;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // falls through to the refusal
  }
  throw invalidParameter('nextToken is not a token this endpoint returned');
}

/** One page of `items` from `nextToken`, with the token of the next page when there is one. */
export function page<T>(items: readonly T[], nextToken: string | undefined, maxResults: number): { items: T[]; nextToken?: string } {
  const from = decodePageToken(nextToken);
  const slice = items.slice(from, from + maxResults);
  const next = from + maxResults < items.length ? encodePageToken(from + maxResults) : undefined;
  return next === undefined ? { items: slice } : { items: slice, nextToken: next };
}

/** Checks tags as ECS does: at most 50, keys up to 128 characters, values up to 256, no `aws:` prefix. */
export function checkTags(tags: Record<string, string>): void {
  const keys = Object.keys(tags);
  if (keys.length > 50) throw invalidParameter(`tags: at most 50 tags, got ${keys.length}`);
  for (const k of keys) {
    if (k.length > 128) throw invalidParameter(`tag key "${k.slice(0, 20)}…" is longer than 128 characters`);
    if (tags[k]!.length > 256) throw invalidParameter(`the value of tag "${k}" is longer than 256 characters`);
    if (/^aws:/i.test(k)) throw invalidParameter(`tag key "${k}": the aws: prefix is reserved for AWS use`);
  }
}
