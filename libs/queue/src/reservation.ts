/** The pool's one reservation: a heavy job that waited past the threshold, and the agent draining for it. */
export interface Reservation {
  jobId: string;
  agentId: string;
  weightMilli: number;
  /** When it was taken (epoch ms). */
  since: number;
}

/** Reads the stored form `jobId|agentId|weight|since`. */
export function parseReservation(raw: string | null): Reservation | undefined {
  if (!raw) return undefined;
  const [jobId, agentId, weight, since] = raw.split('|');
  if (!jobId || !agentId) return undefined;
  return { jobId, agentId, weightMilli: Number(weight), since: Number(since) };
}
