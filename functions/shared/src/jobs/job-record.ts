import type { JobNotice } from '../notices/job-notice';
import type { JobEvent } from '../webhooks/workflow-job-event';
import type { JobState } from './job-state';

/*
 * The job record: one item of the Jobs table per GitHub job (or warm slot), the one owner of its attribute names and
 * their types. Every write of it is a transition in adapters/dynamodb/job-record-writes.ts, typed by these names; the
 * rules below read it. A record also holds the slot of the runner launched for it, from dispatch until that runner is
 * torn down or has run a job to its end — whichever job that was (GitHub gives a job to any idle runner whose labels
 * fit).
 */

/** What describes a job: written once, by the first of its webhooks to arrive. */
export type JobDescription = Pick<
  JobEvent,
  'runId' | 'runAttempt' | 'owner' | 'repo' | 'installationId' | 'labels' | 'jobName' | 'workflowName' | 'htmlUrl' | 'createdAt' | 'headSha'
> & {
  /** Scale-set jobs: the scale set's id of the job. */
  readonly scaleSetJobId?: string;
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
  /**
   * The job GitHub gave this record's runner when that is not the record's own job (job stealing, or a warm slot): the
   * runner is spent, not idle; that job's completion frees the slot.
   */
  readonly busyWith?: number;
  /** The check run that tells why this job waits (see notices/job-notice.ts). */
  readonly notice?: JobNotice;
  /** The job's trace: started by the webhook that first recorded it, continued by every later hop. */
  readonly traceHeader?: string;
  /** Scale-set jobs: when the current assignment of the job to the scale set was made (epoch ms). */
  readonly assignedAtMs?: number;
  /**
   * Scale-set jobs: GitHub withdrew the assignment (no runner took the job in time, or the job was cancelled before
   * one did: the message is the same) at this time (epoch ms). A new assignment clears it; the listener closes the
   * record as cancelled if none comes within its grace.
   */
  readonly withdrawnAt?: number;
}

export type HostInterruptionKind = 'spot-interruption' | 'rebalance-recommendation';

/** What a new runner of the record starts without: the last launch's progress and its host. */
export const LAUNCH_PROGRESS = [
  'launchState',
  'launchClaimedAt',
  'launchedRunnerId',
  'hostId',
  'hostCreatedAt',
  'hostInterruption',
  'busyWith',
] as const satisfies readonly (keyof JobRecord)[];

/** Whether the record holds the slot of `runnerName`. */
export function holdsSlotOf(job: Pick<JobRecord, 'slotPool' | 'launchedRunner'> | undefined, runnerName: string): boolean {
  return job !== undefined && job.slotPool !== undefined && job.launchedRunner === runnerName;
}

/**
 * Whether the runner launched for this record — which holds its slot — is spare: given no job (no `busyWith`), and not
 * needed by the record's own job, which another runner ran (job stealing) or which ended without one (cancelled).
 * GitHub gives such a runner the next queued job of its pool, so it stands in for a launch.
 */
export function isSpareRunner(job: Pick<JobRecord, 'launchedRunner' | 'state' | 'runnerName' | 'busyWith'>): boolean {
  if (job.launchedRunner === undefined || job.busyWith !== undefined) return false;
  return (job.state === 'in_progress' || job.state === 'completed') && job.runnerName !== job.launchedRunner;
}

/**
 * Whether this record still wants `runnerName`, the runner launched for it: booting or idle for its job (dispatched),
 * running its job, or running another job GitHub gave it (`busyWith`) while that job has not completed
 * (`busyWithState`, when the caller read it; unknown counts as running: that job's completion frees it). A spare runner
 * is not wanted by its record; the publisher counts it as an idle runner of its pool for a short while.
 */
export function wantsRunner(
  job: Pick<JobRecord, 'launchedRunner' | 'state' | 'runnerName' | 'busyWith'> | undefined,
  runnerName: string,
  busyWithState?: JobState,
): boolean {
  if (job === undefined || job.launchedRunner !== runnerName) return false;
  if (job.busyWith !== undefined) return busyWithState !== 'completed';
  return job.state === 'dispatched' || (job.state === 'in_progress' && job.runnerName === runnerName);
}
