/*
 * Which queued jobs get the capacity there is. All of them, oldest first, when capacity suffices. When it is short,
 * repositories take turns (each repository's oldest job first, repositories ordered by their oldest job), so that one
 * repository's 256-job matrix cannot starve another repository's single job.
 */

export interface QueuedJobRef {
  readonly jobId: number;
  /** owner/repo */
  readonly repository: string;
}

/** `queued` must be oldest first; returns at most `capacity` jobs in the order to launch them. */
export function selectFairly<T extends QueuedJobRef>(queued: readonly T[], capacity: number): T[] {
  if (capacity <= 0) return [];
  if (queued.length <= capacity) return [...queued];
  const byRepository = new Map<string, T[]>();
  for (const job of queued) {
    const key = job.repository.toLowerCase();
    const list = byRepository.get(key);
    if (list) list.push(job);
    else byRepository.set(key, [job]);
  }
  const lanes = [...byRepository.values()];
  const chosen: T[] = [];
  for (let round = 0; chosen.length < capacity; round++) {
    for (const lane of lanes) {
      const job = lane[round];
      if (job !== undefined && chosen.length < capacity) chosen.push(job);
    }
  }
  return chosen;
}
