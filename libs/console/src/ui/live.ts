/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { stream } from './api.js';
import type { SseEvent } from './sse-parse.js';
import { noteFailure } from './widgets.js';

/** Pause before a dropped stream is opened again. */
const RECONNECT_MS = 1000;

/**
 * Follows the event stream at `path` while the component is shown (and `path` stays the same),
 * opening it again after a drop. `onEvent` returns true when the stream's story has ended
 * (e.g. the job finished), which stops it. `path` may be a function, so a reconnect resumes from
 * the latest cursor. Returns the error that stopped it, if any.
 */
export function useStream(key: string, path: () => string, onEvent: (e: SseEvent) => boolean | void): unknown {
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    const ac = new AbortController();
    let ended = false;
    const run = async () => {
      while (!ac.signal.aborted && !ended) {
        try {
          await stream(path(), (e) => {
            // A failure stays shown until the stream (reopened) delivers again.
            setError(e.event === 'failed' ? new Error((JSON.parse(e.data) as { message: string }).message) : undefined);
            if (onEvent(e) === true || e.event === 'end') ended = true;
          }, ac.signal);
        } catch (err) {
          if (ac.signal.aborted) return;
          setError(noteFailure(err));
          // A refused request (bad filter, no such job, no rights) will be refused again; an
          // unreachable server (0) or cluster (503) may come back.
          const status = (err as { status?: number }).status;
          if (status !== undefined && status >= 400 && status < 500) return;
        }
        if (!ended) await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    };
    void run();
    return () => ac.abort();
  }, [key]);
  return error;
}
