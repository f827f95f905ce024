import type { JobNotice } from '../notices/job-notice';
import type { JobEvent } from '../webhooks/workflow-job-event';
import type { JobState } from './job-state';

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

/** What describes a job: written once, by the first of its webhooks to arrive. */
export type JobDescription = Pick<
  JobEvent,
  'runId' | 'runAttempt' | 'owner' | 'repo' | 'installationId' | 'labels' | 'jobName' | 'workflowName' | 'htmlUrl' | 'createdAt' | 'headSha'
> & {
  readonly firstSeenAt: string;
  /** The pool it was routed to; absent for an unroutable job, which has a reason instead. */
  readonly pool?: string;
  readonly unroutableReason?: string;
};

/** A job record of the Jobs table, as stored (attributes of the indexes included when present). */
export interface JobRecord {
  readonly pk: string;
  readonly jobId: number;
  readonly job: JobDescription;
  readonly state: JobState;
  readonly stateRank: number;
  readonly updatedAt: string;
  readonly lastDeliveryId: string;
  readonly expiresAt: number;
  /** Assigned by GitHub (in_progress, completed). */
  readonly runnerName?: string;
  readonly runnerId?: number;
  readonly conclusion?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  /** Queue index: the pool, while queued. */
  readonly queueKey?: string;
  readonly queueSortKey?: string;
  /** Finished index: the pool, until the publisher dealt with the completed job. */
  readonly finishedKey?: string;
  /** Slots index: the pool, while the runner launched for this job holds its slot. */
  readonly slotPool?: string;
  readonly launchedRunner?: string;
  readonly launchAttempt?: number;
  readonly dispatchedAt?: string;
  readonly slotReleasedAt?: string;
  readonly slotReleasedBy?: string;
  /** The orchestrator's progress with the launch: claimed → registered (JIT runner) → created (host). */
  readonly launchState?: 'claimed' | 'registered' | 'created';
  readonly launchClaimedAt?: number;
  readonly launchedRunnerId?: number;
  readonly hostId?: string;
  /** When the launch recorded its host (ISO): its age for the pool's idle limit and lifetime. */
  readonly hostCreatedAt?: string;
  /** Its host was told it will be reclaimed (EC2 spot interruption warning, rebalance recommendation). */
  readonly hostInterruption?: { readonly kind: HostInterruptionKind; readonly runnerName: string; readonly at: string };
  /** Why the job failed, when it was not the build's fault: `interrupted`, its runner's host was reclaimed. */
  readonly failureClass?: 'interrupted';
  /** When this failed job was re-run through GitHub's API (once at most). */
  readonly rerunRequestedAt?: string;
  /** The last failed launch's class, reason and message (see LaunchFailure). */
  readonly launchError?: { readonly kind: 'permanent' | 'transient'; readonly reason: string; readonly message: string; readonly at: string };
  /** Failed launches so far; the publisher does not relaunch before `notBefore` (epoch ms). */
  readonly launchFailures?: number;
  readonly notBefore?: number;
  /** Warm slots: how often in a row the slot was given up, and when it may be opened again (growing back-off). */
  readonly warmGiveUps?: number;
  readonly warmRetryAt?: number;
  /** Warm slots: the job GitHub gave the slot's runner (it is no longer idle). */
  readonly warmBusyWith?: number;
  /** The check run that tells why this job waits (see notices/job-notice.ts). */
  readonly notice?: JobNotice;
  /** The job's trace: started by the webhook that first recorded it, continued by every later hop. */
  readonly traceHeader?: string;
}

/** The storage contract of job records; the DynamoDB implementation is the one that ships. */
export interface JobStore {
  /** Apply one `workflow_job` webhook to the job's record, atomically and only if it moves the job forward. */
  recordWebhook(event: JobEvent, routing: JobRouting, now: Date, traceHeader?: string): Promise<RecordOutcome>;
  /** Which of these jobs have a record (of any state): consistent reads, 100 keys per call. */
  knownJobs(jobIds: readonly number[]): Promise<Set<number>>;
  /** A warm runner took a job: its slot's record notes it, so the publisher no longer counts it idle. */
  markWarmRunnerBusy(slotJobId: number, runnerName: string, busyWith: number): Promise<void>;
  /** The records holding a slot of `pool` (dispatched or running as far as we know): one index query, batch reads. */
  openJobs(pool: string): Promise<OpenJob[]>;
  /** Of these jobs, those still queued in a pool not among `pools` (renamed or removed since): batch reads. */
  strandedJobs(jobIds: readonly number[], pools: ReadonlySet<string>): Promise<StrandedJob[]>;
  /** Moves a job queued in `fromPool` to the pool its labels route to now (or out of every queue): conditional. */
  reroute(jobId: number, fromPool: string, routing: JobRouting, now: Date): Promise<boolean>;
}

/** A job queued in a pool the config no longer has. */
export type StrandedJob = { readonly jobId: number; readonly pool: string; readonly labels: readonly string[] };

export type HostInterruptionKind = 'spot-interruption' | 'rebalance-recommendation';

/** What the reconciler compares with GitHub's view of a job. */
export type OpenJob = Pick<JobRecord, 'jobId' | 'state' | 'updatedAt' | 'job' | 'launchedRunner' | 'launchState' | 'launchedRunnerId' | 'launchAttempt'>;
