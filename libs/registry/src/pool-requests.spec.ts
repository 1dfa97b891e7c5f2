import { create } from '@bufbuild/protobuf';
import { InvalidArgumentError, LIMITS, type PoolRecord } from '@longshore/domain';
import { CreatePoolRequestSchema, Executor, UpdatePoolRequestSchema } from '@longshore/proto';
import { describe, expect, it } from 'vitest';
import { applyPoolUpdate, poolFromCreate } from './pool-requests.js';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.field;
    throw err;
  }
  return 'accepted';
}

const current: PoolRecord = { id: 'p', description: '', defaultWeightMilli: 250, maxWeightMilli: 1000, createdAt: 0 };

describe('pool requests', () => {
  it('refuses control characters and NUL in descriptions, on create and on update', () => {
    for (const description of ['a\u0000b', 'two\nlines', '\u001b[2Jclear', 'del\u007f']) {
      expect(fieldOf(() => poolFromCreate(create(CreatePoolRequestSchema, { id: 'p', description }), 0))).toBe('description');
      expect(fieldOf(() => applyPoolUpdate(current, create(UpdatePoolRequestSchema, { id: 'p', description, updateMask: ['description'] })))).toBe('description');
    }
    expect(fieldOf(() => poolFromCreate(create(CreatePoolRequestSchema, { id: 'p', description: 'Ingestion, EU — ✓' }), 0))).toBe('accepted');
  });

  it('keeps the executors a pool allows, refusing auto, unknown values and repeats; an empty list on update allows all again', () => {
    const pool = poolFromCreate(create(CreatePoolRequestSchema, { id: 'p', executors: [Executor.DOCKER, Executor.SUBPROCESS] }), 0);
    expect(pool.executors).toEqual(['docker', 'subprocess']);
    expect(poolFromCreate(create(CreatePoolRequestSchema, { id: 'p' }), 0).executors).toBeUndefined();
    for (const executors of [[Executor.AUTO], [Executor.DOCKER, Executor.DOCKER], [99 as Executor]]) {
      expect(fieldOf(() => poolFromCreate(create(CreatePoolRequestSchema, { id: 'p', executors }), 0))).toBe('executors');
    }
    const narrowed = applyPoolUpdate(current, create(UpdatePoolRequestSchema, { id: 'p', executors: [Executor.DOCKER], updateMask: ['executors'] }));
    expect(narrowed.executors).toEqual(['docker']);
    expect(applyPoolUpdate(narrowed, create(UpdatePoolRequestSchema, { id: 'p', updateMask: ['executors'] })).executors).toBeUndefined();
  });

  it('keeps a secret allow-list, refusing entries that are not names or patterns; an empty list on update allows any again', () => {
    const pool = poolFromCreate(create(CreatePoolRequestSchema, { id: 'p', secrets: ['ingest_*', 'DB_PASSWORD'] }), 0);
    expect(pool.secrets).toEqual(['ingest_*', 'DB_PASSWORD']);
    expect(poolFromCreate(create(CreatePoolRequestSchema, { id: 'p' }), 0).secrets).toBeUndefined();
    for (const bad of ['../x', 'a/b', '', 'a b']) {
      expect(fieldOf(() => poolFromCreate(create(CreatePoolRequestSchema, { id: 'p', secrets: [bad] }), 0))).toBe('secrets');
    }
    const narrowed = applyPoolUpdate(current, create(UpdatePoolRequestSchema, { id: 'p', secrets: ['X'], updateMask: ['secrets'] }));
    expect(narrowed.secrets).toEqual(['X']);
    expect(applyPoolUpdate(narrowed, create(UpdatePoolRequestSchema, { id: 'p', updateMask: ['secrets'] })).secrets).toBeUndefined();
  });

  it('refuses path-like and oversized ids and weights past the limits', () => {
    for (const id of ['../etc', 'a/b', '', 'A', 'x'.repeat(64), 'p\u0000']) {
      expect(fieldOf(() => poolFromCreate(create(CreatePoolRequestSchema, { id }), 0))).toBe('id');
    }
    expect(fieldOf(() => poolFromCreate(create(CreatePoolRequestSchema, { id: 'p', maxWeightMilli: LIMITS.maxMilli + 1 }), 0))).toBe('max_weight_milli');
    expect(fieldOf(() => applyPoolUpdate(current, create(UpdatePoolRequestSchema, { id: 'p', defaultWeightMilli: 4_000_000_000, updateMask: ['default_weight_milli'] })))).toBe(
      'default_weight_milli',
    );
  });
});
