import {
  DEFAULT_WEIGHT_MILLI,
  InvalidArgumentError,
  LIMITS,
  STANDARD_CAPACITY_MILLI,
  validateDnsLabel,
  validatePlainText,
  type PoolRecord,
} from '@longshore/domain';
import type { CreatePoolRequest, UpdatePoolRequest } from '@longshore/proto';

const MASKABLE = ['description', 'default_weight_milli', 'max_weight_milli'] as const;

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
      default:
        throw new InvalidArgumentError('update_mask', `unknown field "${field}": use ${MASKABLE.join(', ')}`);
    }
  }
  checkWeights(next.defaultWeightMilli, next.maxWeightMilli);
  return next;
}
