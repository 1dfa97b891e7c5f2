/**
 * Bounds on everything a client sends. They keep Redis (which runs with `noeviction`) and the
 * agents safe from oversized input; each is documented in the README's "Limits" table.
 */
export const LIMITS = {
  commandArgs: 256,
  argBytes: 8 * 1024,
  commandBytes: 64 * 1024,
  envVars: 128,
  envNameLength: 256,
  envValueBytes: 32 * 1024,
  envBytes: 256 * 1024,
  labels: 32,
  labelKeyLength: 63,
  labelValueLength: 256,
  workingDirLength: 4096,
  imageLength: 512,
  /** Docker run options (`docker` in a spec): container labels, added capabilities, mounts, devices. */
  dockerLabels: 32,
  dockerLabelKeyLength: 128,
  dockerCapabilities: 64,
  dockerMounts: 32,
  dockerDevices: 32,
  /** Build steps of one job (each at most `argBytes`); build args are bounded as `env` is. */
  dockerBuildSteps: 64,
  /** A docker user (`name`, `uid`, `uid:gid`) or network name. */
  dockerNameLength: 64,
  idempotencyKeyLength: 256,
  descriptionLength: 1024,
  /** 7 days. */
  maxTimeoutMs: 7 * 24 * 3600 * 1000,
  maxAttempts: 100,
  priority: 1000,
  /** Largest weight or capacity, in thousandths (1000 standard agents). */
  maxMilli: 1_000_000,
  batchSize: 1000,
  /** Largest request message the servers accept (gRPC max receive size): a full batch of specs averaging 16 KiB. */
  requestBytes: 16 * 1024 * 1024,
  /** A ListJobs page ends early (with a page token) once its jobs reach about this size, so it always fits a client's receive limit. */
  responseBytes: 4 * 1024 * 1024,
  /** Label filters in one ListJobs call. */
  labelFilters: 16,
  /** ListJobs page size: at most this many jobs per page; 0 means {@link defaultPageSize}. */
  pageSize: 500,
  defaultPageSize: 50,
} as const;

/**
 * Per-connection limits of the gRPC servers. An idle connection (no call open) is closed after
 * `idleConnectionMs` (clients reconnect transparently); the server pings a connection silent
 * for `keepaliveMs` and drops it when the ping is not answered within `keepaliveTimeoutMs`, so
 * dead peers do not hold sockets.
 */
export const CONNECTION_LIMITS = {
  /** Calls open at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  concurrentStreams: 1000,
  idleConnectionMs: 60_000,
  keepaliveMs: 60_000,
  keepaliveTimeoutMs: 20_000,
} as const;

/** Default weight of a pool's jobs: a quarter of a standard agent, as DataHub's 1 / 4 ingestion workers. */
export const DEFAULT_WEIGHT_MILLI = 250;
/** Capacity of a standard agent, and the default largest weight a pool accepts. */
export const STANDARD_CAPACITY_MILLI = 1000;
/** The pool created on first start. */
export const DEFAULT_POOL_ID = 'default';

/** Retries per failure class unless a job says otherwise: the system's faults retry, the job's own do not. */
export const DEFAULT_RETRY_BUDGETS = { exit: 0, timeout: 0, oom: 0, start_failed: 2, lost: 3 } as const;
/** First backoff between retries, doubled per retry with jitter, up to the maximum. */
export const DEFAULT_BACKOFF_MS = 1000;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;
