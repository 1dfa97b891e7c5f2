import type Docker from 'dockerode';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toEngine } from './docker-engine.js';

/** Stands in for dockerode: records the socket it was given, connects nowhere. */
class FakeDockerode {
  constructor(readonly opts: { socketPath: string }) {}
}
const Dockerode = FakeDockerode as unknown as typeof Docker;

describe('toEngine (what a Docker test file gets from the broker)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the engine with a client of its socket', () => {
    const got = toEngine({ kind: 'ready', host: 'unix:///tmp/x/d.sock', socketPath: '/tmp/x/d.sock', image: 'longshore-test/busybox:1' }, Dockerode, {});
    expect(got).toMatchObject({ host: 'unix:///tmp/x/d.sock', image: 'longshore-test/busybox:1', docker: { opts: { socketPath: '/tmp/x/d.sock' } } });
  });

  it('skips outside CI when no engine can be had, warning loudly with the reason and the fix', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const got = toEngine({ kind: 'unavailable', reason: 'dockerd needs root' }, Dockerode, { CI: 'false' });
    expect(got).toEqual({ unavailable: 'dockerd needs root' });
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/SKIPPING Docker tests: dockerd needs root[\s\S]*scripts\/install\.sh/);
  });

  it('fails under CI=true when no engine can be had: CI never skips Docker tests', () => {
    expect(() => toEngine({ kind: 'unavailable', reason: 'dockerd needs root' }, Dockerode, { CI: 'true' })).toThrow(/dockerd needs root.*CI=true/);
  });

  it('fails everywhere when dockerd is there but does not start', () => {
    expect(() => toEngine({ kind: 'failed', message: 'dockerd exited during startup' }, Dockerode, {})).toThrow(/failed to start: dockerd exited during startup/);
  });
});
