import type { PoolView } from '../api-types.js';

/**
 * The pool forms' logic, without the DOM (so tests run in Node): the text each field starts
 * with, which of them the user changed, and how a pool's settings read on its card.
 */

/** The edit form's fields, named as the console API's update body names them. */
export const POOL_FIELDS = ['description', 'defaultWeight', 'maxWeight', 'executors', 'standard', 'secrets'] as const;
export type PoolField = (typeof POOL_FIELDS)[number];

/** The text each field of the edit form starts with: the pool's values as they are typed. */
export function poolFieldValues(pool: PoolView): Record<PoolField, string> {
  return {
    description: pool.description,
    defaultWeight: pool.defaultWeight,
    maxWeight: pool.maxWeight,
    executors: pool.executors.join(', '),
    standard: pool.standard,
    secrets: pool.secrets.join(', '),
  };
}

/**
 * The update body: only the fields whose text the user changed (trimmed), so the API's
 * UpdatePool changes exactly those. An emptied standard or secrets field is sent empty: it
 * clears the standard, or allows any secret.
 */
export function poolChanges(pool: PoolView, read: (field: PoolField) => string | null): Partial<Record<PoolField, string>> {
  const was = poolFieldValues(pool);
  const body: Partial<Record<PoolField, string>> = {};
  for (const field of POOL_FIELDS) {
    const now = (read(field) ?? '').trim();
    if (now !== was[field]) body[field] = now;
  }
  return body;
}

/** The create form's body from its fields; empty fields are left to the API's defaults. */
export function newPoolBody(read: (field: PoolField | 'id') => string | null, makeDefault: boolean): Record<string, string | boolean> {
  const body: Record<string, string | boolean> = { id: (read('id') ?? '').trim(), makeDefault };
  for (const field of POOL_FIELDS) {
    const v = (read(field) ?? '').trim();
    if (v) body[field] = v;
  }
  return body;
}

/** A pool's standard agent on its card: "cpus=2,memory=4Gi", or what having none means. */
export function standardText(pool: PoolView): string {
  return pool.standard || 'none (weights are admission only)';
}

/** A pool's secrets allow-list on its card: the names and patterns, or "any". */
export function secretsText(pool: PoolView): string {
  return pool.secrets.length > 0 ? pool.secrets.join(', ') : 'any';
}
