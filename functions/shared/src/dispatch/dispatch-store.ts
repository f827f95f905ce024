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
  /** After a failed launch: not to be launched again before this time (epoch ms). */
  readonly notBefore?: number;
}

/** A completed job the publisher has not dealt with yet. */
export interface FinishedJob {
  readonly jobId: number;
  /** The runner GitHub says ran it; absent when it was cancelled before any runner took it. */
  readonly runnerName?: string;
  /** The runner we launched for it, if we did. */
  readonly launchedRunner?: string;
  /** Whether that runner still holds its slot. */
  readonly holdsSlot: boolean;
}

export interface Dispatch {
  readonly pool: string;
  readonly runnerName: string;
  readonly attempt: number;
  readonly at: Date;
}

/** Storage contract of the publisher: queues, slots and launch logs, all derived from the Jobs table. */
export interface DispatchStore {
  /** The oldest queued jobs of a pool, oldest first. */
  queuedJobs(pool: string, limit: number): Promise<QueuedJob[]>;
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
  /** Whether this job record holds the slot of `runnerName`. */
  holdsSlot(jobId: number, runnerName: string): Promise<boolean>;
  /** Frees the slot of `runnerName` held by job `jobId`. False when it was not held (already freed, or not ours). */
  releaseSlot(jobId: number, runnerName: string, releasedBy: string, at: Date): Promise<boolean>;
  /** The publisher has dealt with this completed job. */
  clearFinished(jobId: number): Promise<void>;
}
