import { isWarmJobId, WARM_SLOTS_PER_POOL, warmJobId, warmSlotOf } from '../pools/warm-slots';

/*
 * A runner's name says which launch it is: `<prefix>-<pool>-<job id>-<attempt>`, or `<prefix>-<pool>-w<slot>-<attempt>`
 * for a warm runner. GitHub reports the name of the runner that ran a job (`runner_name`); parsing it finds the record
 * that holds that runner's slot, whichever job the runner ended up running (job stealing). A name that does not parse,
 * or names a pool we do not have, is not ours.
 */

/** Attempts have at most 4 digits in a name. */
export const MAX_ATTEMPT = 9_999;

/** "Runner names can only be 64 characters in length" (actions/runner pull request #1710, by the runner's maintainers). */
export const MAX_RUNNER_NAME_LENGTH = 64;

/** The longest name a pool's runners can get: a job id of up to 16 digits (a safe integer) and the largest attempt. */
export function longestRunnerName(prefix: string, pool: string): number {
  return `${prefix}-${pool}-${'9'.repeat(String(Number.MAX_SAFE_INTEGER).length)}-${MAX_ATTEMPT}`.length;
}

export interface RunnerIdentity {
  readonly pool: string;
  /** The record holding the runner's slot: a job, or a warm slot of the pool. */
  readonly jobId: number;
  readonly attempt: number;
}

export function runnerName(prefix: string, identity: RunnerIdentity): string {
  const id = isWarmJobId(identity.jobId) ? `w${warmSlotOf(identity.pool, identity.jobId)}` : String(identity.jobId);
  return `${prefix}-${identity.pool}-${id}-${identity.attempt}`;
}

export function parseRunnerName(name: string, prefix: string, pools: ReadonlySet<string>): RunnerIdentity | undefined {
  const match = /^(.+)-(w?)(\d{1,20})-(\d{1,4})$/.exec(name);
  if (!match || !match[1]!.startsWith(`${prefix}-`)) return undefined;
  const pool = match[1]!.slice(prefix.length + 1);
  const number = Number(match[3]);
  const attempt = Number(match[4]);
  if (!pools.has(pool) || !Number.isSafeInteger(number) || number <= 0 || attempt <= 0 || attempt > MAX_ATTEMPT) return undefined;
  if (match[2] === 'w') return number < WARM_SLOTS_PER_POOL ? { pool, jobId: warmJobId(pool, number), attempt } : undefined;
  return isWarmJobId(number) ? undefined : { pool, jobId: number, attempt };
}
