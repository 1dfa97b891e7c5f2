import {
  DEFAULT_WEIGHT_MILLI,
  InvalidArgumentError,
  AGENT_EXECUTORS,
  LIMITS,
  STANDARD_CAPACITY_MILLI,
  type AgentExecutorName,
  validateDnsLabel,
  validatePlainText,
  validateSecretPatterns,
  type PoolRecord,
  type PoolStandard,
} from '@longshore/domain';
import type { CreatePoolRequest, Executor, PoolStandard as ProtoPoolStandard, UpdatePoolRequest } from '@longshore/proto';
import { executorEnum } from '@longshore/rpc';

const MASKABLE = ['description', 'default_weight_milli', 'max_weight_milli', 'executors', 'standard', 'secrets'] as const;

/** The executors a pool's jobs may use, validated: named ones, not `auto`, each once; empty = all. */
function poolExecutors(values: Executor[]): AgentExecutorName[] {
  const names = values.map((v) => {
    const name = executorEnum.fromProto(v);
    if (name === undefined || name === 'auto') {
      throw new InvalidArgumentError('executors', `lists ${name === 'auto' ? '"auto"' : `an unknown executor (${v})`}: name the executors themselves (${AGENT_EXECUTORS.join(', ')})`);
    }
    return name;
  });
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('executors', 'names an executor twice');
  return names;
}

/** A pool's standard agent, validated; unset or all zero = none. */
function poolStandard(p: ProtoPoolStandard | undefined): PoolStandard | undefined {
  if (!p || (p.cpusMilli === 0 && p.memoryBytes === 0n)) return undefined;
  if (p.cpusMilli > LIMITS.maxMilli) throw new InvalidArgumentError('standard.cpus_milli', `${p.cpusMilli} is above the limit of ${LIMITS.maxMilli} (${LIMITS.maxMilli / 1000} CPUs)`);
  if (p.memoryBytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError('standard.memory_bytes', `${p.memoryBytes} bytes is too large`);
  return { ...(p.cpusMilli ? { cpusMilli: p.cpusMilli } : {}), ...(p.memoryBytes ? { memoryBytes: Number(p.memoryBytes) } : {}) };
}

function checkWeights(defaultWeightMilli: number, maxWeightMilli: number): void {
  if (maxWeightMilli > LIMITS.maxMilli) {
    throw new InvalidArgumentError('max_weight_milli', `${maxWeightMilli} is above the limit of ${LIMITS.maxMilli} (${LIMITS.maxMilli / 1000} standard agents)`);
  }
  if (defaultWeightMilli > maxWeightMilli) {
    throw new InvalidArgumentError(
      'default_weight_milli',
      `the default weight (${defaultWeightMilli / 1000}) cannot exceed the pool's maximum weight (${maxWeightMilli / 1000})`,
    );
  }
}

function checkDescription(d: string): void {
  if (d.length > LIMITS.descriptionLength) throw new InvalidArgumentError('description', `is longer than ${LIMITS.descriptionLength} characters`);
  validatePlainText('description', d, LIMITS.descriptionLength);
}

/** A validated new pool record from a CreatePool request (0 weights mean the defaults). */
export function poolFromCreate(req: CreatePoolRequest, now: number): PoolRecord {
  validateDnsLabel('id', req.id);
  checkDescription(req.description);
  const rec: PoolRecord = {
    id: req.id,
    description: req.description,
    defaultWeightMilli: req.defaultWeightMilli || DEFAULT_WEIGHT_MILLI,
    maxWeightMilli: req.maxWeightMilli || STANDARD_CAPACITY_MILLI,
    createdAt: now,
  };
  const executors = poolExecutors(req.executors);
  if (executors.length > 0) rec.executors = executors;
  const standard = poolStandard(req.standard);
  if (standard) rec.standard = standard;
  const secrets = validateSecretPatterns('secrets', req.secrets);
  if (secrets.length > 0) rec.secrets = secrets;
  if (!req.defaultWeightMilli && rec.defaultWeightMilli > rec.maxWeightMilli) rec.defaultWeightMilli = rec.maxWeightMilli;
  checkWeights(rec.defaultWeightMilli, rec.maxWeightMilli);
  return rec;
}

/** The pool after an UpdatePool request: only the fields named in `update_mask` change. */
export function applyPoolUpdate(current: PoolRecord, req: UpdatePoolRequest): PoolRecord {
  if (req.updateMask.length === 0) {
    throw new InvalidArgumentError('update_mask', `name the fields to change (${MASKABLE.join(', ')})`);
  }
  const next: PoolRecord = { ...current };
  for (const field of req.updateMask) {
    switch (field) {
      case 'description':
        checkDescription(req.description);
        next.description = req.description;
        break;
      case 'default_weight_milli':
        if (req.defaultWeightMilli <= 0) throw new InvalidArgumentError('default_weight_milli', 'must be greater than 0');
        next.defaultWeightMilli = req.defaultWeightMilli;
        break;
      case 'max_weight_milli':
        if (req.maxWeightMilli <= 0) throw new InvalidArgumentError('max_weight_milli', 'must be greater than 0');
        next.maxWeightMilli = req.maxWeightMilli;
        break;
      case 'executors': {
        const executors = poolExecutors(req.executors);
        if (executors.length > 0) next.executors = executors;
        else delete next.executors;
        break;
      }
      case 'standard': {
        const standard = poolStandard(req.standard);
        if (standard) next.standard = standard;
        else delete next.standard;
        break;
      }
      case 'secrets': {
        const secrets = validateSecretPatterns('secrets', req.secrets);
        if (secrets.length > 0) next.secrets = secrets;
        else delete next.secrets;
        break;
      }
      default:
        throw new InvalidArgumentError('update_mask', `unknown field "${field}": use ${MASKABLE.join(', ')}`);
    }
  }
  checkWeights(next.defaultWeightMilli, next.maxWeightMilli);
  return next;
}
