import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { badArgNames, buildDockerfile, buildKey, buildTag, singleFileTar, stepOfInstruction, type BuildInput } from './docker-build-plan.js';

const base = 'sha256:' + 'a'.repeat(64);
const input: BuildInput = { baseId: base, steps: ['echo one > /a', 'echo two > /b'], args: { B: '2', A: '1' } };

describe('the key of a build', () => {
  it('is a sha256 that the same base, steps and args always give, and names the tag', () => {
    const key = buildKey(input);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(buildKey({ ...input, steps: [...input.steps], args: { ...input.args } })).toBe(key);
    expect(buildTag(key)).toBe(`longshore-build/${key.slice(0, 16)}:latest`);
  });

  it('changes with the order of the steps, a step, a different base id, or an arg value', () => {
    const key = buildKey(input);
    expect(buildKey({ ...input, steps: [...input.steps].reverse() })).not.toBe(key);
    expect(buildKey({ ...input, steps: ['echo one > /a', 'echo two > /c'] })).not.toBe(key);
    expect(buildKey({ ...input, baseId: 'sha256:' + 'b'.repeat(64) })).not.toBe(key);
    expect(buildKey({ ...input, args: { A: '1', B: '3' } })).not.toBe(key);
    expect(buildKey({ ...input, args: {} })).not.toBe(key);
  });

  it('does not change with the order the args were given in', () => {
    expect(buildKey({ ...input, args: { A: '1', B: '2' } })).toBe(buildKey(input));
  });

  it('cannot be made equal by moving text between steps', () => {
    expect(buildKey({ ...input, steps: ['a', 'b'] })).not.toBe(buildKey({ ...input, steps: ['a","b'] }));
    expect(buildKey({ ...input, steps: ['ab'] })).not.toBe(buildKey({ ...input, steps: ['a', 'b'] }));
  });
});

describe('the Dockerfile of a build', () => {
  it('starts from the base id, declares each arg, runs each step with sh -c as an exec-form JSON array, and labels last', () => {
    expect(buildDockerfile(input, { 'longshore.build': 'k' })).toBe(
      [`FROM ${base}`, 'ARG A', 'ARG B', 'RUN ["sh","-c","echo one > /a"]', 'RUN ["sh","-c","echo two > /b"]', 'LABEL longshore.build="k"', ''].join('\n'),
    );
  });

  it('keeps a step that spans lines, ends in a backslash or holds quotes on one line, byte for byte', () => {
    const step = 'printf "%s" \'x\' \\\n  && echo "$A" \\';
    const run = buildDockerfile({ ...input, args: {}, steps: [step] }).split('\n')[1]!;
    expect(run.startsWith('RUN ')).toBe(true);
    expect(JSON.parse(run.slice(4))).toEqual(['sh', '-c', step]);
  });

  it('maps the builder\'s instruction numbers to steps, past FROM and the ARGs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => stepOfInstruction(n, input))).toEqual([undefined, undefined, undefined, 1, 2, undefined]);
  });

  it('names build args an ARG cannot take', () => {
    expect(badArgNames({ OK_1: '', _x: '', '1ST': '', 'A B': '', 'X\nRUN id': '' })).toEqual(['1ST', 'A B', 'X\nRUN id']);
  });
});

describe('the build context', () => {
  it('is a tar that tar itself reads back: one file, its content exact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'longshore-tar-'));
    try {
      const content = Buffer.from('FROM x\n'.repeat(100) + 'héllo');
      writeFileSync(join(dir, 'c.tar'), singleFileTar('Dockerfile', content));
      expect(execFileSync('tar', ['-tf', join(dir, 'c.tar')], { encoding: 'utf8' })).toBe('Dockerfile\n');
      expect(execFileSync('tar', ['-xOf', join(dir, 'c.tar'), 'Dockerfile'])).toEqual(content);
      expect(singleFileTar('Dockerfile', content).length % 512).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
