/**
 * A CPU profiler for a service started by the tracing benchmark: loaded with
 * `NODE_OPTIONS=--import <this file>` (Node 20 refuses `--cpu-prof` in NODE_OPTIONS), it starts
 * the inspector's sampling profiler at once and, when the process exits, writes the profile to
 * `LONGSHORE_CPU_PROFILE` (a `.cpuprofile` file: Chrome DevTools and `tracing-profile.ts` read it)
 * with `wallStartMs`, the wall clock at the profile's start, so samples can be placed in time.
 * The main thread's inspector session answers synchronously, so the exit handler can stop it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { isMainThread } from 'node:worker_threads';

const out = process.env.LONGSHORE_CPU_PROFILE;
// The main thread only (a worker, such as the span export thread, loads this hook too).
if (out && isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 200 µs between samples: fine enough for per-job figures, cheap enough not to distort them much.
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  const wallStartMs = Date.now();
  session.post('Profiler.start');
  process.once('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err && res?.profile) writeFileSync(out, JSON.stringify({ ...res.profile, wallStartMs }));
    });
  });
}
