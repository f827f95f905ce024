import type { JobRecord } from '../jobs/job-record';
import type { PoolLaunchLog } from './capacity';

/** A job waiting in its pool's queue, with what a launch needs. */
export interface QueuedJob {
  readonly jobId: number;
  readonly owner: string;
  readonly repo: string;
  readonly installationId?: number;
  readonly labels: readonly string[];
  /** The attempt the next launch is (1 for the first). */
  readonly nextAttempt: number;
  /** When GitHub created the job (else when we first saw it): time to dispatch is measured from here. */
  readonly createdAt: string;
  /** When we first saw it queued. */
  readonly seenAt: string;
  /** When it (re)entered the queue: a job back from a runner it lost counts from here. */
  readonly queuedAt: string;
  /** After a failed launch: not to be launched again before this time (epoch ms). */
  readonly notBefore?: number;
  /** The job's trace (see tracing/job-segment.ts): its launch continues it. */
  readonly traceHeader?: string;
}

/** Where a runner is registered: enough to remove its registration without reading its record. */
export interface RunnerRegistration {
  readonly owner: string;
  readonly repo: string;
  readonly installationId?: number;
  /** GitHub's id of the runner, once its launch recorded it. */
  readonly runnerId?: number;
}

/** A completed job the publisher has not dealt with yet. */
export interface FinishedJob {
  readonly jobId: number;
  /** The runner GitHub says ran it; absent when it was cancelled before any runner took it. */
  readonly runnerName?: string;
  /** GitHub's id of that runner. */
  readonly runnerId?: number;
  /** The runner we launched for it, if we did. */
  readonly launchedRunner?: string;
  /** Whether that runner still holds its slot. */
  readonly holdsSlot: boolean;
  /** The job GitHub gave that runner instead, if it gave it one (it is spent). */
  readonly busyWith?: number;
  /** Where the job's runners register (its repository or organization), and the launched runner's id. */
  readonly registration: RunnerRegistration;
  /** GitHub's conclusion (`success`, `failure`, `cancelled`, …). */
  readonly conclusion?: string;
  readonly traceHeader?: string;
}

/** A runner holding a slot of a pool, as the slots index shows it. */
export interface SlotHolder {
  /** The record holding the slot (the job the runner was launched for, or a warm slot). */
  readonly jobId: number;
  readonly runnerName: string;
  /** owner/repo of the record's job: fair sharing counts runners per repository. */
  readonly repository: string;
  readonly registration: RunnerRegistration;
  readonly state: JobRecord['state'];
  /** The runner that ran the record's job, when one did (another one, if it was stolen). */
  readonly ranOn?: string;
  /** The job GitHub gave this runner when not the record's own (job stealing, or a warm slot). */
  readonly busyWith?: number;
  readonly dispatchedAt?: string;
  /** When the record last changed: for a spare runner, about when its job left it. */
  readonly updatedAt: string;
}

export interface Dispatch {
  readonly pool: string;
  readonly runnerName: string;
  readonly attempt: number;
  readonly at: Date;
}

/** A runner holding a warm slot of a pool. */
export interface WarmRunner {
  readonly jobId: number;
  readonly runnerName: string;
  /** The job GitHub gave it (its in_progress webhook came); an idle or booting runner has none. */
  readonly busyWith?: number;
  readonly dispatchedAt?: string;
}

/** What a warm slot record describes: whom its runner registers with, and the pool's labels. */
export interface WarmSlot {
  readonly pool: string;
  readonly jobId: number;
  readonly owner: string;
  readonly repo: string;
  readonly labels: readonly string[];
}

/** Storage contract of the publisher: queues, slots and launch logs, all derived from the Jobs table. */
export interface DispatchStore {
  /** The oldest queued jobs of a pool, oldest first. */
  queuedJobs(pool: string, limit: number): Promise<QueuedJob[]>;
  /** The runners holding a slot of this pool: one query of the slots index. */
  slots(pool: string): Promise<SlotHolder[]>;
  /** The runners holding a slot of this pool: runner name → repository (owner/repo) it was launched for. */
  slotRunners(pool: string): Promise<Map<string, string>>;
  finishedJobs(pool: string, limit: number): Promise<FinishedJob[]>;
  launchLog(pool: string): Promise<PoolLaunchLog>;
  /** Optimistic: false when another writer saved a newer version first. */
  saveLaunchLog(pool: string, log: PoolLaunchLog): Promise<boolean>;
  /** queued → dispatched, taking a slot. False when the job is no longer queued (nothing written). */
  markDispatched(jobId: number, dispatch: Dispatch): Promise<boolean>;
  /** dispatched → queued again, releasing the slot, when its launch message could not be published. */
  requeue(jobId: number, dispatch: Dispatch): Promise<boolean>;
  /** Of these runners (name → the job record holding its slot), those whose slot is held, with their repository. */
  slotsHeld(runners: readonly { readonly jobId: number; readonly runnerName: string }[]): Promise<Map<string, string>>;
  /** Frees the slot of `runnerName` held by job `jobId`. False when it was not held (already freed, or not ours). */
  releaseSlot(jobId: number, runnerName: string, releasedBy: string, at: Date): Promise<boolean>;
  /**
   * `runnerName`, launched for job `jobId`, ran another job to its end: its slot is freed; if `jobId` still waited for
   * it (dispatched), it goes back to its pool's queue. `not-held`: the slot was free already.
   */
  releaseLostRunner(jobId: number, pool: string, runnerName: string, at: Date): Promise<'requeued' | 'released' | 'not-held'>;
  /** A completed job that ran on its own runner: slot freed and dealt with, in one write. False when the slot was free already. */
  releaseFinished(jobId: number, runnerName: string, at: Date): Promise<boolean>;
  /** The publisher has dealt with this completed job. */
  clearFinished(jobId: number): Promise<void>;
  /** The runners holding a warm slot of this pool. */
  warmRunners(pool: string): Promise<WarmRunner[]>;
  /**
   * Puts a warm slot in the pool's queue (after the pool's jobs). Only a slot that is neither queued nor holding a
   * runner is written, and one whose launches failed only after `failedBefore`: false otherwise.
   */
  openWarmSlot(slot: WarmSlot, at: Date, failedBefore: Date): Promise<boolean>;
  /** Takes a queued warm slot out of the queue (fewer warm runners wanted). False if it is no longer queued. */
  closeWarmSlot(jobId: number): Promise<boolean>;
}
