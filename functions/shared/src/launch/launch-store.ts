import type { JobRecord } from '../jobs/job-store';

export type ClaimOutcome =
  /** This delivery may launch (first time, or taking over an attempt that crashed). */
  | { readonly kind: 'claimed'; readonly job: JobRecord }
  /** A host exists already: a duplicate delivery. */
  | { readonly kind: 'created' }
  /** Another delivery is launching right now: try again after the visibility timeout. */
  | { readonly kind: 'in-progress' }
  /** The job no longer waits for this runner (requeued, cancelled, taken): nothing to launch. */
  | { readonly kind: 'not-ours' };

/** Whether this record still wants `runnerName`: its slot's runner, launching or running (else the runner is left over). */
export function wantsRunner(job: JobRecord | undefined, runnerName: string): boolean {
  return job !== undefined && job.launchedRunner === runnerName && (job.state === 'dispatched' || job.state === 'in_progress');
}

/** Storage contract of the orchestrators: a launch's progress on the job record that holds its runner's slot. */
export interface LaunchStore {
  /** Claims the launch of `runnerName`; a claim older than `staleBeforeMs` (epoch ms) may be taken over. */
  claim(jobId: number, runnerName: string, nowMs: number, staleBeforeMs: number): Promise<ClaimOutcome>;
  recordRegistration(jobId: number, runnerName: string, runnerId: number): Promise<void>;
  recordHost(jobId: number, runnerName: string, hostId: string, nowMs: number): Promise<void>;
  /** Gives the job back to the publisher (not before `retryAtMs`), or gives up on it for good. Frees the slot. */
  failLaunch(jobId: number, runnerName: string, outcome: { readonly retryAtMs: number } | 'give-up', nowMs: number): Promise<boolean>;
  job(jobId: number): Promise<JobRecord | undefined>;
}
