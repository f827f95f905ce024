/*
 * A runner's name says which launch it is: `<prefix>-<pool>-<job id>-<attempt>`. GitHub reports the name of the runner
 * that ran a job (`runner_name`); parsing it finds the job record that holds that runner's slot, whichever job the
 * runner ended up running (job stealing). A name that does not parse, or names a pool we do not have, is not ours.
 */

export interface RunnerIdentity {
  readonly pool: string;
  readonly jobId: number;
  readonly attempt: number;
}

export function runnerName(prefix: string, identity: RunnerIdentity): string {
  return `${prefix}-${identity.pool}-${identity.jobId}-${identity.attempt}`;
}

export function parseRunnerName(name: string, prefix: string, pools: ReadonlySet<string>): RunnerIdentity | undefined {
  const match = /^(.+)-(\d{1,20})-(\d{1,4})$/.exec(name);
  if (!match || !match[1]!.startsWith(`${prefix}-`)) return undefined;
  const pool = match[1]!.slice(prefix.length + 1);
  const jobId = Number(match[2]);
  const attempt = Number(match[3]);
  if (!pools.has(pool) || !Number.isSafeInteger(jobId) || jobId <= 0 || attempt <= 0) return undefined;
  return { pool, jobId, attempt };
}
