import type { HeldJob, JobSource, LogLine } from '@longshore/queue';
import type { Redactor } from '@longshore/secrets';

/**
 * Batches a run's output lines into the job's log: flushed every `flushMs` or `maxBatch` lines,
 * in order, one fenced write per batch. Tells the caller if a write was fenced off (the claim
 * it wrote under is no longer the job's), with that claim's token: the caller says whether it
 * holds the job again (it took its lapsed claim back: the batch is written again under the job's
 * claim now, see `job`), else it stops the run and nothing more is written. With a redactor, every line is
 * masked before it is stored; the redactor may hold back the last lines (whose joined end could begin
 * a secret) until a line settles it or the output ends ({@link end}): the timed flush writes what
 * the redactor released, never the lines it holds, so a secret cut over several lines is masked in
 * each however long apart they come.
 */
export class LogWriter {
  private buf: LogLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private fenced = false;
  /** How many times one batch is written again under a claim taken back before the writer gives up. */
  private static readonly MAX_RECLAIMS = 2;

  constructor(
    private readonly source: JobSource,
    /** The job, or how to get the claim it is held under now (it changes when a lapsed claim is taken back). */
    private readonly job: HeldJob | (() => HeldJob),
    private readonly capBytes: number,
    private readonly onFenced: (token: string) => void | boolean | Promise<boolean>,
    private readonly onError: (err: unknown) => void,
    private readonly redactor?: Redactor,
    private readonly flushMs = 50,
    private readonly maxBatch = 64,
  ) {}

  line(stream: 'stdout' | 'stderr' | 'system', text: string): void {
    if (this.fenced) return;
    if (this.redactor) this.buf.push(...this.redactor.push(stream, text));
    else this.buf.push({ stream, text });
    if (this.buf.length >= this.maxBatch) void this.flush();
    else if (this.buf.length > 0) this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** The output has ended: writes what is buffered and the line the redactor held; resolves when all is stored. */
  end(): Promise<void> {
    if (this.redactor && !this.fenced) this.buf.push(...this.redactor.drain());
    return this.flush();
  }

  /** Writes what is buffered (not a line the redactor holds); resolves when every earlier batch is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buf;
    this.buf = [];
    if (batch.length) {
      this.chain = this.chain.then(async () => {
        if (this.fenced) return;
        try {
          // At most a few claims taken back in a row for one batch (each is a write of its own).
          for (let tries = 0; tries < LogWriter.MAX_RECLAIMS + 1; tries++) {
            const job = typeof this.job === 'function' ? this.job() : this.job;
            if ((await this.source.appendLogs(job, this.capBytes, batch)) !== -1) return;
            if ((await this.onFenced(job.token)) !== true) break;
          }
          this.fenced = true;
        } catch (err) {
          this.onError(err);
        }
      });
    }
    return this.chain;
  }
}
