/**
 * The console's JSON API, as the server sends it and the UI reads it. Numbers people read are
 * formatted once, on the server, with the domain's formatters (weights "0.25", durations
 * "1m 20s"); raw values ride along where the UI computes with them (bar widths, ages).
 * Everything here that a job controls (command, labels, env names, log text) is plain text to
 * the UI, never markup.
 */

/** An error body: the API's own message, and its gRPC code name. */
export interface ApiError {
  error: { code: string; message: string };
}

/** Who the token in use is (`GET /api/whoami`). */
export interface WhoAmIView {
  name: string;
  role: string;
  pools: string[];
  /** True when the role may change things (admin, submitter). */
  canWrite: boolean;
  /** `LONGSHORE_TRACE_URL` of the console, when configured. */
  traceUrl?: string;
}

export interface ReservationView {
  jobId: string;
  agentId: string;
  weight: string;
  sinceMs: number;
  /** How long ago it was taken ("1m 20s ago"). */
  since: string;
  /** When it was taken, UTC ("2026-12-02 17:20:05Z"). */
  sinceTime: string;
}

export interface PoolView {
  id: string;
  description: string;
  isDefault: boolean;
  defaultWeight: string;
  maxWeight: string;
  /** Executors its jobs may use; empty = all. */
  executors: string[];
  /** Its standard agent as `pools update --standard` takes it ("cpus=2,memory=4Gi"); '' = none (weights are admission only). */
  standard: string;
  /** Secret names or patterns its jobs may reference; empty = any. */
  secrets: string[];
  health: string;
  liveAgents: number;
  lostAgents: number;
  drainingAgents: number;
  capacityMilli: number;
  weightInUseMilli: number;
  capacity: string;
  weightInUse: string;
  jobsQueued: number;
  jobsRunning: number;
  reservation?: ReservationView;
}

export interface AgentView {
  id: string;
  pool: string;
  host: string;
  version: string;
  state: string;
  capacityMilli: number;
  weightInUseMilli: number;
  capacity: string;
  weightInUse: string;
  runningJobIds: string[];
  /** The running jobs whose weight is known, in the agent's order: its capacity bar's parts. */
  jobs: AgentJobView[];
  /** Weight in use not accounted for by `jobs` (jobs not looked up, or finished meanwhile). */
  otherWeightMilli: number;
  otherWeight: string;
  lanes: { lane: string; used: number; limit?: number }[];
  executors: { name: string; healthy: boolean; reason: string }[];
  labels: [string, string][];
  lastHeartbeatMs?: number;
  /** e.g. "3.2s ago"; "-" when never. */
  lastHeartbeat: string;
}

/** A running job's share of an agent. */
export interface AgentJobView {
  id: string;
  weightMilli: number;
  weight: string;
}

export interface AttemptView {
  number: number;
  agentId: string;
  executor: string;
  executorReason: string;
  started: string;
  finished: string;
  duration: string;
  exitCode?: number;
  failureClass: string;
  handedBack: boolean;
  message: string;
}

export interface JobSummaryView {
  id: string;
  state: string;
  pool: string;
  weight: string;
  command: string[];
  labels: [string, string][];
  created: string;
  createdMs?: number;
  exitCode?: number;
  failureClass: string;
  /** How long it ran (or has been running); "-" before it starts. */
  duration: string;
}

export interface JobDetailView extends JobSummaryView {
  executor: string;
  lane: string;
  priority: number;
  maxAttempts: number;
  timeout: string;
  memory: string;
  image: string;
  envNames: string[];
  message: string;
  agentId: string;
  traceId: string;
  /** The trace link built from LONGSHORE_TRACE_URL, when configured and the job has a trace. */
  traceLink?: string;
  finished: boolean;
  logTruncated: boolean;
  attempts: AttemptView[];
}

export interface JobPageView {
  jobs: JobSummaryView[];
  nextPageToken: string;
}

export interface LogLineView {
  cursor: string;
  stream: string;
  text: string;
  timeMs?: number;
}
