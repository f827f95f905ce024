/*
 * Warm pools: a pool may keep `minIdle` runners registered and idle ahead of its jobs (more inside cron windows), so a
 * job gets a runner in seconds instead of a boot. A warm runner holds a slot like any launched runner (in flight counts
 * it, maxRunners caps it) through a job-like record of its own, "warm slot k" of the pool. GitHub gives a queued job to
 * any idle runner whose labels fit, so the warm runner simply takes it; its completion tears it down and puts warm slot
 * k back in the queue, so the pool refills.
 *
 * Warm slot records need job ids that no GitHub job has: 2^52 and up (GitHub's are ~10^10), per pool a block of
 * 1,000 from a hash of its name. Runner names show `w<k>` instead of the id.
 */

export const WARM_SLOTS_PER_POOL = 1_000;
const WARM_JOB_ID_BASE = 2 ** 52;

function poolCode(pool: string): number {
  // FNV-1a, 32 bits: stable across deploys and runtimes.
  let hash = 0x811c9dc5;
  for (const char of pool) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash;
}

/** The record id of warm slot `slot` (1-based) of `pool`. */
export function warmJobId(pool: string, slot: number): number {
  if (!Number.isInteger(slot) || slot < 1 || slot >= WARM_SLOTS_PER_POOL) throw new RangeError(`warm slot ${slot} is outside 1..${WARM_SLOTS_PER_POOL - 1}`);
  return WARM_JOB_ID_BASE + poolCode(pool) * WARM_SLOTS_PER_POOL + slot;
}

export function isWarmJobId(jobId: number): boolean {
  return jobId >= WARM_JOB_ID_BASE;
}

/** Which warm slot of `pool` this id is, or undefined if it is not one of that pool's. */
export function warmSlotOf(pool: string, jobId: number): number | undefined {
  const slot = jobId - WARM_JOB_ID_BASE - poolCode(pool) * WARM_SLOTS_PER_POOL;
  return Number.isInteger(slot) && slot >= 1 && slot < WARM_SLOTS_PER_POOL ? slot : undefined;
}

/** Two pool names whose warm id blocks collide (vanishingly rare, but checked when the config loads). */
export function warmIdCollision(pools: readonly string[]): [string, string] | undefined {
  const seen = new Map<number, string>();
  for (const pool of pools) {
    const other = seen.get(poolCode(pool));
    if (other !== undefined) return [other, pool];
    seen.set(poolCode(pool), pool);
  }
  return undefined;
}
