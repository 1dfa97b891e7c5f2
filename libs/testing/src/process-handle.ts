import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { trackPid, untrackPid } from './exit-guard.js';
import { TIMED_OUT, withDeadline } from './wait-for.js';

/** One parsed JSON log line (pino writes one object per line). */
export type LogRecord = Record<string, unknown>;

/** How a process ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process started by {@link startProcess}, with its output captured. */
export interface ProcessHandle {
  readonly pid: number;
  readonly name: string;
  /** Every stdout and stderr line so far (the two streams interleave as they arrive). */
  readonly lines: readonly string[];
  /** The lines that parsed as JSON objects (pino logs); other lines are skipped. */
  readonly logs: readonly LogRecord[];
  /**
   * Resolves with the first log, past or future, that `pred` accepts. Rejects after
   * `timeoutMs` (default 10 s), or once the process has exited and its output is drained
   * without a match; either message carries the last 30 output lines.
   */
  waitForLog(pred: (log: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /**
   * Resolves once the process has exited and its output is read (so {@link lines} is
   * complete); rejects after `timeoutMs` (default 10 s) with the last 30 output lines.
   */
  waitForExit(timeoutMs?: number): Promise<ExitStatus>;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Sends `sig` to the process; does nothing once it has exited. */
  signal(sig: NodeJS.Signals): void;
  /**
   * SIGTERM, wait up to `timeoutMs` (default 10 s), then SIGKILL. Idempotent: a second call
   * returns the first call's promise.
   */
  stop(timeoutMs?: number): Promise<void>;
}

/** What {@link startProcess} runs. */
export interface StartProcessOptions {
  /** Shown in error messages. */
  name: string;
  command: string;
  args: string[];
  /** The child's whole environment (default: this process's); `undefined` values are unset. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long SIGKILL may take to be reaped before stop() gives up. */
const KILL_WAIT_MS = 5_000;
/** After exit, how long to wait for output still in the pipes (a grandchild may hold them). */
const DRAIN_GRACE_MS = 1_000;
const TAIL_LINES = 30;

/**
 * Spawns `command` with `args` (no shell), stdin closed, stdout and stderr captured line by
 * line. The child is SIGKILLed by pid if the test process exits while it still runs.
 * Throws at once if the command cannot be spawned at all.
 */
export function startProcess(opts: StartProcessOptions): ProcessHandle {
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    // The spawn error itself arrives on the next tick; swallow it, the throw says it all.
    child.on('error', () => {});
    throw new Error(
      `could not start ${opts.name}: spawning "${opts.command}" failed ` +
        `(not found or not executable; cwd ${opts.cwd ?? process.cwd()})`,
    );
  }
  return new ChildProcessHandle(opts.name, child, child.pid);
}

interface LogWatcher {
  onLog(log: LogRecord): void;
  onEnd(status: ExitStatus): void;
}

class ChildProcessHandle implements ProcessHandle {
  readonly #lines: string[] = [];
  readonly #logs: LogRecord[] = [];
  readonly #watchers = new Set<LogWatcher>();
  readonly #child: ChildProcess;
  /** Resolves on 'exit'. */
  readonly #exitedP: Promise<ExitStatus>;
  /** Resolves once exited and the output pipes are closed (or the drain grace ran out). */
  readonly #endedP: Promise<ExitStatus>;
  #exit: ExitStatus | undefined;
  #ended: ExitStatus | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    readonly name: string,
    child: ChildProcess,
    readonly pid: number,
  ) {
    this.#child = child;
    trackPid(pid);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (l) => this.#onLine(l));
    }
    child.on('error', (err) => this.#onLine(`[harness] ${name}: ${err.message}`));
    this.#exitedP = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        untrackPid(pid);
        resolve(this.#exit);
      });
    });
    this.#endedP = new Promise((resolve) => {
      const finish = (): void => {
        if (this.#ended || !this.#exit) return;
        this.#ended = this.#exit;
        for (const w of this.#watchers) w.onEnd(this.#ended);
        resolve(this.#ended);
      };
      child.once('close', finish);
      void this.#exitedP.then(() => {
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        }, DRAIN_GRACE_MS).unref();
      });
    });
  }

  get lines(): readonly string[] {
    return this.#lines;
  }

  get logs(): readonly LogRecord[] {
    return this.#logs;
  }

  get exited(): boolean {
    return this.#exit !== undefined;
  }

  waitForLog(pred: (log: LogRecord) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<LogRecord> {
    return new Promise<LogRecord>((resolve, reject) => {
      const settle = (fn: () => void): void => {
        clearTimeout(timer);
        this.#watchers.delete(watcher);
        fn();
      };
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(new Error(`${this.#who()} logged no matching line within ${timeoutMs}ms${this.#tail()}`)),
          ),
        timeoutMs,
      );
      const watcher: LogWatcher = {
        onLog: (log) => {
          try {
            if (pred(log)) settle(() => resolve(log));
          } catch (err) {
            settle(() => reject(err));
          }
        },
        onEnd: (status) =>
          settle(() =>
            reject(new Error(`${this.#who()} ${describe(status)} before logging a matching line${this.#tail()}`)),
          ),
      };
      this.#watchers.add(watcher);
      for (const log of this.#logs) {
        watcher.onLog(log);
        if (!this.#watchers.has(watcher)) return;
      }
      if (this.#ended) watcher.onEnd(this.#ended);
    });
  }

  async waitForExit(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExitStatus> {
    const status = await withDeadline(this.#endedP, timeoutMs);
    if (status === TIMED_OUT) {
      throw new Error(`${this.#who()} did not exit within ${timeoutMs}ms${this.#tail()}`);
    }
    return status;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.#exit) return;
    // ChildProcess.kill targets this child's pid and is a no-op once it has been reaped.
    this.#child.kill(sig);
  }

  stop(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.signal('SIGTERM');
    if ((await withDeadline(this.#exitedP, timeoutMs)) === TIMED_OUT) {
      this.signal('SIGKILL');
      if ((await withDeadline(this.#exitedP, KILL_WAIT_MS)) === TIMED_OUT) {
        throw new Error(`${this.#who()} survived SIGKILL for ${KILL_WAIT_MS}ms${this.#tail()}`);
      }
    }
    await this.#endedP;
  }

  #onLine(line: string): void {
    this.#lines.push(line);
    const log = parseLog(line);
    if (!log) return;
    this.#logs.push(log);
    for (const w of [...this.#watchers]) w.onLog(log);
  }

  #who(): string {
    return `${this.name} (pid ${this.pid})`;
  }

  #tail(): string {
    const tail = this.#lines.slice(-TAIL_LINES);
    return tail.length === 0 ? '; it printed nothing' : `; last ${tail.length} lines:\n${tail.join('\n')}`;
  }
}

function parseLog(line: string): LogRecord | undefined {
  if (!line.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as LogRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

function describe(status: ExitStatus): string {
  return status.code !== null ? `exited with code ${status.code}` : `was killed by ${status.signal ?? 'a signal'}`;
}
