import { afterAll, describe, expect, it } from 'vitest';
import { startProcess, type ProcessHandle } from './process-handle.js';
import { Resources } from './resources.js';
import { sleep, waitFor } from './wait-for.js';

const res = new Resources();
afterAll(() => res.stopAll());

function node(name: string, script: string): ProcessHandle {
  return res.add(startProcess({ name, command: process.execPath, args: ['-e', script] }));
}

describe('startProcess', () => {
  it('captures stdout and stderr lines and parses the JSON ones', async () => {
    const p = node(
      'lines',
      `console.log('plain'); console.error('to stderr'); console.log(JSON.stringify({ msg: 'hi', n: 1 })); console.log('[1,2]');`,
    );
    expect(await p.waitForExit()).toEqual({ code: 0, signal: null });
    expect(p.exited).toBe(true);
    expect([...p.lines].sort()).toEqual(['plain', 'to stderr', '{"msg":"hi","n":1}', '[1,2]'].sort());
    expect(p.logs).toEqual([{ msg: 'hi', n: 1 }]);
  });

  it('waitForLog finds a line printed after a delay', async () => {
    const p = node(
      'delayed',
      `setTimeout(() => console.log(JSON.stringify({ msg: 'Listening', address: '127.0.0.1:1' })), 300); setInterval(() => {}, 1000);`,
    );
    const log = await p.waitForLog((l) => l['msg'] === 'Listening', 15_000);
    expect(log['address']).toBe('127.0.0.1:1');
    await p.stop();
  });

  it('waitForLog finds a line printed before the call', async () => {
    const p = node('early', `console.log(JSON.stringify({ msg: 'early' })); setInterval(() => {}, 1000);`);
    await p.waitForLog((l) => l['msg'] === 'early');
    // Now it is in the past: a second wait must resolve from what was already captured.
    const again = await p.waitForLog((l) => l['msg'] === 'early', 100);
    expect(again).toEqual({ msg: 'early' });
    await p.stop();
  });

  it('waitForLog rejects when the process exits without the line, showing its output', async () => {
    const p = node('quitter', `console.log('about to give up'); process.exit(3);`);
    // The message tells the two rejections apart: this one is for the exit, not the (longer) timeout.
    await expect(p.waitForLog((l) => l['msg'] === 'never', 15_000)).rejects.toThrow(
      /quitter \(pid \d+\) exited with code 3 before logging a matching line; last 1 lines:\nabout to give up/,
    );
  });

  it('waitForLog rejects on timeout, showing its output', async () => {
    const p = node('quiet', `console.log('nothing useful'); setInterval(() => {}, 1000);`);
    await waitForLine(p, 'nothing useful'); // started and printed: only the wait's own window is timed
    await expect(p.waitForLog(() => false, 200)).rejects.toThrow(/logged no matching line within 200ms.*\nnothing useful/s);
    await p.stop();
  });

  it('stop() falls back to SIGKILL when SIGTERM is ignored', async () => {
    const p = node('stubborn', `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`);
    await waitForLine(p, 'ready');
    const started = Date.now();
    // It gave SIGTERM its grace (a timer never fires early, however loaded the machine), then
    // forced, before the default 10 s grace would have run out: the 500 was honoured.
    const first = await Promise.race([p.stop(500).then(() => 'stopped'), sleep(10_000).then(() => 'default grace')]);
    expect(first).toBe('stopped');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    // The exit was by SIGKILL, which nothing else here sends.
    expect(await p.waitForExit(100)).toEqual({ code: null, signal: 'SIGKILL' });
    await p.stop(); // idempotent
    p.signal('SIGTERM'); // no-op once exited
  });

  it('stop() of a well-behaved process ends it with SIGTERM', async () => {
    const p = node('polite', `console.log('ready'); setInterval(() => {}, 1000);`);
    await waitForLine(p, 'ready');
    await p.stop();
    expect(await p.waitForExit(100)).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('throws at once when the command cannot be spawned', () => {
    expect(() => startProcess({ name: 'ghost', command: '/nonexistent/longshore-nope', args: [] })).toThrow(
      /could not start ghost: spawning "\/nonexistent\/longshore-nope" failed/,
    );
  });
});

function waitForLine(p: ProcessHandle, line: string): Promise<true> {
  return waitFor(() => p.lines.includes(line), { timeoutMs: 15_000, what: `"${line}" from ${p.name}` });
}
