/**
 * Longshore's use of BullMQ: the versioned job data that travels through a pool's queue, the
 * producer side (one queue per pool), and the claiming seam agents take jobs through.
 */
export { QUEUE_DATA_VERSION, decodeQueueData } from './codec.js';
export type { QueueJobData, DecodeResult } from './codec.js';
export { JobQueues, queueName, bullPriority } from './queues.js';
export type { QueueCounts } from './queues.js';
export { createBullJobSource } from './job-source.js';
export type { ClaimedJob, JobSource, BullJobSourceOptions, ClaimRequest, ClaimOutcome } from './job-source.js';
export { reservationKey, addedChannel, parseReservation, jobName } from './reservation.js';
export type { Reservation } from './reservation.js';
export { buildFitClaimScript } from './fit-claim-script.js';
