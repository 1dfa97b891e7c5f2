import { describe, expect, it } from 'vitest';
import { createOptions, EventLines } from './docker-runtime.js';

function split(chunks: (string | Buffer)[], max?: number): string[] {
  const out: string[] = [];
  const lines = new EventLines((l) => out.push(l), max);
  for (const c of chunks) lines.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  lines.end();
  return out;
}

describe('EventLines', () => {
  it('makes one event per line across chunks, without \\n or \\r, and keeps a last line without newline', () => {
    expect(split(['a\r\nb', 'c\n', '\nlast'])).toEqual(['a', 'bc', '', 'last']);
  });

  it('cuts an over-long line into pieces, never inside a UTF-8 character', () => {
    const pieces = split(['ééééé\n'], 4); // é is 2 bytes
    expect(pieces).toEqual(['éé', 'éé', 'é']);
  });
});

describe('createOptions', () => {
  it('runs with no network, dropped privileges, a pids limit and the memory as a hard limit without swap', () => {
    const o = createOptions({ name: 'n', image: 'i', env: { A: '1' }, network: 'none', memoryMiB: 64, labels: { l: 'v' } });
    expect(o.Env).toEqual(['A=1']);
    expect(o.HostConfig).toMatchObject({ NetworkMode: 'none', CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 64 * 1024 * 1024, MemorySwap: 64 * 1024 * 1024, AutoRemove: false });
    expect(o.HostConfig!.CapAdd).not.toContain('NET_RAW');
    expect(o.HostConfig!.PidsLimit).toBeGreaterThan(0);
    expect(o.Cmd).toBeUndefined(); // the image's own command unless the task gives one
  });
});
