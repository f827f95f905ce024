/*
 * Which queued jobs get the capacity there is. All of them, oldest first, when capacity suffices. When it is short,
 * each launch goes to the repository with the fewest runners in flight (counting this round's launches), its oldest
 * job; ties go to the repository whose next job is oldest. So one repository's 256-job matrix cannot starve another
 * repository's single job, even when capacity comes back one slot at a time.
 */

export interface QueuedJobRef {
  readonly jobId: number;
  /** owner/repo */
  readonly repository: string;
}

/**
 * `queued` must be oldest first; `inFlight` counts the pool's runners in flight per repository (owner/repo).
 * Returns at most `capacity` jobs, in the order to launch them.
 */
export function selectFairly<T extends QueuedJobRef>(queued: readonly T[], capacity: number, inFlight: ReadonlyMap<string, number> = new Map()): T[] {
  if (capacity <= 0) return [];
  if (queued.length <= capacity) return [...queued];
  const lanes = new Map<string, { jobs: { job: T; age: number }[]; next: number; load: number }>();
  queued.forEach((job, age) => {
    const key = job.repository.toLowerCase();
    let lane = lanes.get(key);
    if (!lane) {
      lane = { jobs: [], next: 0, load: 0 };
      lanes.set(key, lane);
    }
    lane.jobs.push({ job, age });
  });
  for (const [repository, count] of inFlight) {
    const lane = lanes.get(repository.toLowerCase());
    if (lane) lane.load += count;
  }
  const chosen: T[] = [];
  while (chosen.length < capacity) {
    let best: { jobs: { job: T; age: number }[]; next: number; load: number } | undefined;
    for (const lane of lanes.values()) {
      if (lane.next >= lane.jobs.length) continue;
      if (!best || lane.load < best.load || (lane.load === best.load && lane.jobs[lane.next]!.age < best.jobs[best.next]!.age)) best = lane;
    }
    if (!best) break;
    chosen.push(best.jobs[best.next]!.job);
    best.next++;
    best.load++;
  }
  return chosen;
}
