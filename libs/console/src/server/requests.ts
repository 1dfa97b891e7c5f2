import type { JobSpecInit } from '@longshore/client';
import { EXECUTORS, InvalidArgumentError, JOB_STATES, LIMITS, parseDurationMs, parseMilli, parseStandard, type ExecutorName, type JobStateName } from '@longshore/domain';
import { executorEnum, jobStateEnum } from '@longshore/rpc';

/**
 * The console API's requests, checked at the edge: each bad field is refused with its name and
 * an example before anything goes to the cluster. Rules the API itself enforces (pool ids,
 * weight limits, command length…) are left to it, so its messages reach the user unchanged.
 */

/** A jobs-list query: pool, state, labels (`label=k=v`, repeatable), paging. */
export interface JobListQuery {
  pool: string;
  state?: JobStateName;
  labels: Record<string, string>;
  pageSize: number;
  pageToken: string;
}

/** Parses `?pool=&state=&label=k=v&pageSize=&pageToken=`. */
export function parseJobListQuery(q: URLSearchParams): JobListQuery {
  const state = q.get('state') || undefined;
  if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) {
    throw new InvalidArgumentError('state', `"${state}" is not a job state (one of ${JOB_STATES.join(', ')})`);
  }
  const labels: Record<string, string> = {};
  for (const l of q.getAll('label')) {
    const eq = l.indexOf('=');
    if (eq < 1) throw new InvalidArgumentError('label', `"${l}" is not KEY=VALUE (e.g. team=data)`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const sizeText = q.get('pageSize') || '50';
  const pageSize = Number(sizeText);
  if (!/^\d+$/.test(sizeText) || pageSize < 1 || pageSize > LIMITS.pageSize) {
    throw new InvalidArgumentError('pageSize', `"${sizeText}" is not a page size: use 1 to ${LIMITS.pageSize}`);
  }
  return { pool: q.get('pool') ?? '', ...(state ? { state: state as JobStateName } : {}), labels, pageSize, pageToken: q.get('pageToken') ?? '' };
}

/** The ListJobs request for a query. */
export function listJobsRequest(q: JobListQuery) {
  return { pool: q.pool, ...(q.state ? { state: jobStateEnum.toProto(q.state) } : {}), labels: q.labels, pageSize: q.pageSize, pageToken: q.pageToken };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InvalidArgumentError(field, 'must be text');
  return v.trim();
}

function stringMap(body: Record<string, unknown>, field: string): Record<string, string> {
  const v = body[field];
  if (v === undefined || v === null) return {};
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new InvalidArgumentError(field, 'must map names to text, e.g. {"team": "data"}');
  return v as Record<string, string>;
}

function wholeNumber(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const raw = text(body, field);
  if (raw === '') return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw) || n < min || n > max) throw new InvalidArgumentError(field, `"${raw}" is not a whole number from ${min} to ${max}`);
  return n;
}

function body(v: unknown): Record<string, unknown> {
  if (!isRecord(v)) throw new InvalidArgumentError('body', 'must be a JSON object');
  return v;
}

/**
 * The submit form as a job spec: `command` is the argv (a list, never run through a shell
 * unless it says so), `weight` a decimal ("0.25"), `timeout` a duration ("30s").
 */
export function parseSubmit(raw: unknown): JobSpecInit {
  const b = body(raw);
  const command = b['command'];
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string')) {
    throw new InvalidArgumentError('command', 'give the program and its arguments, one per line (e.g. sh, -c, echo hello)');
  }
  const executor = text(b, 'executor');
  if (executor && !(EXECUTORS as readonly string[]).includes(executor)) {
    throw new InvalidArgumentError('executor', `"${executor}" is not an executor (one of ${EXECUTORS.join(', ')})`);
  }
  const weight = text(b, 'weight');
  const timeout = text(b, 'timeout');
  const maxAttempts = wholeNumber(b, 'maxAttempts', 1, 100);
  const priority = wholeNumber(b, 'priority', -1_000_000, 1_000_000);
  return {
    command: command as string[],
    pool: text(b, 'pool'),
    ...(executor ? { executor: executorEnum.toProto(executor as ExecutorName) } : {}),
    ...(weight ? { weightMilli: parseMilli('weight', weight) } : {}),
    ...(timeout ? { timeoutMs: BigInt(parseDurationMs('timeout', timeout)) } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(text(b, 'image') ? { image: text(b, 'image') } : {}),
    ...(text(b, 'lane') ? { lane: text(b, 'lane') } : {}),
    labels: stringMap(b, 'labels'),
    env: stringMap(b, 'env'),
  };
}

/**
 * The create-pool form: id, description, weights as decimals, executors, the standard agent
 * ("cpus=2,memory=4Gi"), the secrets allow-list ("ingest_*, DB_PASSWORD"), whether it becomes
 * the default. Empty fields take the API's defaults.
 */
export function parseCreatePool(raw: unknown) {
  const b = body(raw);
  const defaultWeight = text(b, 'defaultWeight');
  const maxWeight = text(b, 'maxWeight');
  const standard = poolStandard(b);
  return {
    id: text(b, 'id'),
    description: text(b, 'description'),
    ...(defaultWeight ? { defaultWeightMilli: parseMilli('defaultWeight', defaultWeight) } : {}),
    ...(maxWeight ? { maxWeightMilli: parseMilli('maxWeight', maxWeight) } : {}),
    executors: executorList(b, 'executors'),
    ...(standard ? { standard } : {}),
    secrets: secretList(b),
    makeDefault: b['makeDefault'] === true,
  };
}

/** The executors field of the pool forms: names separated by commas or spaces; empty = every executor. */
function executorList(b: Record<string, unknown>, field: string) {
  return text(b, field)
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((name) => {
      if (!(EXECUTORS as readonly string[]).includes(name)) throw new InvalidArgumentError(field, `"${name}" is not an executor (one of ${EXECUTORS.join(', ')})`);
      return executorEnum.toProto(name as ExecutorName);
    });
}

/**
 * The standard-agent field, as `pools create|update --standard` reads it ("cpus=2,memory=4Gi",
 * the domain's parser and messages); empty or "none" = no standard (weights are admission only).
 * Limits (CPUs at most…) are the API's to enforce, with its message.
 */
function poolStandard(b: Record<string, unknown>): { cpusMilli: number; memoryBytes: bigint } | undefined {
  const raw = text(b, 'standard');
  const s = raw === 'none' ? undefined : parseStandard('standard', raw);
  return s ? { cpusMilli: s.cpusMilli ?? 0, memoryBytes: BigInt(s.memoryBytes ?? 0) } : undefined;
}

/**
 * The secrets field: names or patterns (ingest_*) separated by commas or spaces; empty or "none"
 * = any secret. Each entry is checked by the API, whose message names a bad one.
 */
function secretList(b: Record<string, unknown>): string[] {
  const raw = text(b, 'secrets');
  return raw === 'none' ? [] : raw.split(/[\s,]+/).filter(Boolean);
}

/**
 * The edit-pool form as an UpdatePool request: only the fields the body names change (the UI
 * sends those the user changed), so `update_mask` names exactly those. A body naming none goes to
 * the API as it is, and the API's own message says what to do.
 */
export function parseUpdatePool(id: string, raw: unknown) {
  const b = body(raw);
  const mask: string[] = [];
  const has = (field: string) => b[field] !== undefined && b[field] !== null;
  if (has('description')) mask.push('description');
  if (has('defaultWeight')) mask.push('default_weight_milli');
  if (has('maxWeight')) mask.push('max_weight_milli');
  if (has('executors')) mask.push('executors');
  if (has('standard')) mask.push('standard');
  if (has('secrets')) mask.push('secrets');
  const standard = poolStandard(b);
  return {
    id,
    description: text(b, 'description'),
    defaultWeightMilli: has('defaultWeight') ? parseMilli('defaultWeight', text(b, 'defaultWeight')) : 0,
    maxWeightMilli: has('maxWeight') ? parseMilli('maxWeight', text(b, 'maxWeight')) : 0,
    executors: executorList(b, 'executors'),
    // Unset with "standard" in the mask clears it; an empty list with "secrets" allows any.
    ...(standard ? { standard } : {}),
    secrets: secretList(b),
    updateMask: mask,
  };
}

/** The delete-pool button: `force` cancels the pool's queued jobs instead of being refused. */
export function parseDeletePool(id: string, raw: unknown) {
  return { id, force: body(raw ?? {})['force'] === true };
}

/** The login form: the one-time code from the URL `longshore up` printed. */
export function parseLogin(raw: unknown): string {
  const code = text(body(raw), 'code');
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(code)) throw new InvalidArgumentError('code', 'is not a login code from "longshore up"');
  return code;
}
