import type { JobEvent } from '../webhooks/workflow-job-event';
import type { JobState } from './job-state';
import type { JobRecord } from './job-record';

/** Where a job was routed: a pool by name, or no pool at all. */
export type JobRouting = { readonly pool: string } | { readonly pool: undefined; readonly reason: string };

export interface RecordOutcome {
  /** False when the event was a duplicate or arrived after a later state: nothing was written. */
  readonly changed: boolean;
  /** The job's state after the call (the stored one when nothing changed). */
  readonly state: JobState;
  readonly pool?: string;
  /** The job's trace header (set by the first webhook that recorded it). */
  readonly traceHeader?: string;
}

/** The storage contract of job records; the DynamoDB implementation is the one that ships. */
export interface JobStore {
  /** Apply one `workflow_job` webhook to the job's record, atomically and only if it moves the job forward. */
  recordWebhook(event: JobEvent, routing: JobRouting, now: Date, traceHeader?: string): Promise<RecordOutcome>;
  /** Which of these jobs have a record (of any state): consistent reads, 100 keys per call. */
  knownJobs(jobIds: readonly number[]): Promise<Set<number>>;
  /**
   * A runner launched for another job (or a warm slot) took this one: the record holding its slot notes it, so that
   * nothing counts that runner idle or tears it down as one.
   */
  markRunnerBusy(slotJobId: number, runnerName: string, busyWith: number): Promise<void>;
  /** The records holding a slot of `pool` (dispatched or running as far as we know): one index query, batch reads. */
  openJobs(pool: string): Promise<OpenJob[]>;
  /** These records (those that exist), as openJobs reads them: batch reads. */
  jobRecords(jobIds: readonly number[]): Promise<OpenJob[]>;
  /** Of these jobs, those still queued in a pool not among `pools` (renamed or removed since): batch reads. */
  strandedJobs(jobIds: readonly number[], pools: ReadonlySet<string>): Promise<StrandedJob[]>;
  /** Scale-set intake: a known job assigned to the scale set again (after a withdrawal); false when not newer. */
  recordReassignment(jobId: number, assignedAtMs: number, now: Date): Promise<boolean>;
  /** Scale-set intake: GitHub withdrew the assignment made at `assignedAtMs`; false when late or already withdrawn. */
  recordWithdrawal(jobId: number, assignedAtMs: number, nowMs: number): Promise<boolean>;
  /** Scale-set intake: no new assignment followed a withdrawal made by `withdrawnBy`: the job is completed as cancelled. */
  closeWithdrawn(jobId: number, pool: string, withdrawnBy: number, now: Date): Promise<boolean>;
  /** Moves a job queued in `fromPool` to the pool its labels route to now (or out of every queue): conditional. */
  reroute(jobId: number, fromPool: string, routing: JobRouting, now: Date): Promise<boolean>;
}

/** A job queued in a pool the config no longer has. */
export type StrandedJob = { readonly jobId: number; readonly pool: string; readonly labels: readonly string[] };

/** What the reconciler compares with GitHub's view of a job. */
export type OpenJob = Pick<
  JobRecord,
  'jobId' | 'state' | 'updatedAt' | 'job' | 'launchedRunner' | 'launchState' | 'launchedRunnerId' | 'launchAttempt' | 'busyWith'
>;
