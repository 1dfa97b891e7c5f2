/** The pool's one reservation: a heavy job that waited past the threshold, and the agent draining for it. */
export interface Reservation {
  jobId: string;
  agentId: string;
  weightMilli: number;
  /** When it was taken (epoch ms). */
  since: number;
}

/** Redis key of a pool's reservation. */
export function reservationKey(prefix: string, pool: string): string {
  return `${prefix}:reservation:${pool}`;
}

/** Pub/sub channel told when jobs are added to (or handed back into) a pool's queue. */
export function addedChannel(prefix: string, pool: string): string {
  return `${prefix}:added:${pool}`;
}

/** Reads the stored form `jobId|agentId|weight|since`. */
export function parseReservation(raw: string | null): Reservation | undefined {
  if (!raw) return undefined;
  const [jobId, agentId, weight, since] = raw.split('|');
  if (!jobId || !agentId) return undefined;
  return { jobId, agentId, weightMilli: Number(weight), since: Number(since) };
}

/** The BullMQ job name that carries a job's weight and lane to the fit-aware claim. */
export function jobName(weightMilli: number, lane?: string): string {
  return lane ? `w${weightMilli}:${lane}` : `w${weightMilli}`;
}
