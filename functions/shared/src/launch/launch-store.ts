import type { HostInterruptionKind, JobRecord } from '../jobs/job-record';

export type ClaimOutcome =
  /** This delivery may launch (first time, or taking over an attempt that crashed). */
  | { readonly kind: 'claimed'; readonly job: JobRecord }
  /** A host exists already: a duplicate delivery. */
  | { readonly kind: 'created' }
  /** Another delivery is launching right now: try again after the visibility timeout. */
  | { readonly kind: 'in-progress' }
  /** The job no longer waits for this runner (requeued, cancelled, taken): nothing to launch. */
  | { readonly kind: 'not-ours' };

/** Whether the record still belongs to this launch attempt (its slot held, its claim not taken over). */
export function ownsLaunch(job: JobRecord | undefined, attempt: LaunchAttempt): boolean {
  return job !== undefined && job.slotPool !== undefined && job.launchedRunner === attempt.runnerName && job.launchClaimedAt === attempt.claimedAtMs;
}

/** Why a launch failed, kept on the record: a class the on-call can act on, and GitHub's or the cloud's own words. */
export interface LaunchFailure {
  /** `permanent`: retrying cannot help (no installation, no runner group, labels refused, access denied). */
  readonly kind: 'permanent' | 'transient';
  readonly reason: string;
  readonly message: string;
}

/**
 * One launch attempt: the runner it launches and the time of its claim. A record is the attempt's while it holds the
 * runner's slot and still carries that claim: a teardown that freed the slot, or a takeover that re-claimed it, ends it.
 */
export interface LaunchAttempt {
  readonly jobId: number;
  readonly runnerName: string;
  readonly claimedAtMs: number;
}

/** Storage contract of the orchestrators: a launch's progress on the job record that holds its runner's slot. */
export interface LaunchStore {
  /** Claims the launch of `attempt.runnerName` at its `claimedAtMs`; a claim older than `staleBeforeMs` may be taken over. */
  claim(attempt: LaunchAttempt, staleBeforeMs: number): Promise<ClaimOutcome>;
  /**
   * The attempt made its runner's registration (`runnerId`) and host: recorded in one conditional write, false when the
   * attempt no longer owns the record (its slot freed, or its claim taken over).
   */
  recordHost(attempt: LaunchAttempt, runnerId: number, hostId: string, nowMs: number): Promise<boolean>;
  /**
   * Gives the job back to the publisher (not before `retryAtMs`), or gives up on it for good. Frees the slot. `job` is
   * the record as last read (its pool, its failures so far); written only while it still waits for `runnerName`.
   */
  failLaunch(job: JobRecord, runnerName: string, outcome: { readonly retryAtMs: number } | 'give-up', nowMs: number, failure?: LaunchFailure): Promise<boolean>;
  job(jobId: number): Promise<JobRecord | undefined>;
  /** These records (those that exist), read in batches: consistent reads. */
  jobs(jobIds: readonly number[]): Promise<Map<number, JobRecord>>;
  /** Notes on the record holding `runnerName`'s slot that its host is to be reclaimed. */
  markHostInterrupted(jobId: number, runnerName: string, kind: HostInterruptionKind, nowMs: number): Promise<boolean>;
  /**
   * Classifies a failed job as interrupted (its runner's host was reclaimed), once: true only for the first caller,
   * while the job is completed, failed, on that runner.
   */
  classifyInterrupted(jobId: number, runnerName: string, nowMs: number): Promise<boolean>;
  /** Claims the one re-run of a job (true once); `release` gives it back when GitHub refused. */
  claimRerun(jobId: number, nowMs: number): Promise<boolean>;
  releaseRerun(jobId: number): Promise<void>;
}
