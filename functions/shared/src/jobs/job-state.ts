import type { JobAction } from '../webhooks/workflow-job-event';

/*
 * The job state machine. A state only moves forward; its rank orders the states so that every writer can make its
 * change a conditional write "rank below mine". Gaps leave room for the control plane's own states:
 *
 *   waiting(10) → queued(20) → dispatched(25, publisher) → [launch_failed(27), orchestrator] → in_progress(30) → completed(40)
 *
 * Webhooks arrive duplicated, redelivered and out of order. A webhook whose rank is not above the stored one changes
 * nothing: a duplicate (same rank) is a no-op, and a late `queued` after `in_progress`/`completed` launches nothing.
 */

export const JOB_STATES = ['waiting', 'queued', 'dispatched', 'launch_failed', 'in_progress', 'completed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const STATE_RANK: Readonly<Record<JobState, number>> = {
  waiting: 10,
  queued: 20,
  dispatched: 25,
  /** Given up after the pool's launch attempts: no more paid attempts; a runner of another job may still take it. */
  launch_failed: 27,
  in_progress: 30,
  completed: 40,
};

/** Every webhook action names the state it moves the job to. */
export function stateOfAction(action: JobAction): JobState {
  return action;
}

/** Whether an event that moves a job to `next` may change a job now in `current` (undefined: not recorded yet). */
export function canAdvance(current: JobState | undefined, next: JobState): boolean {
  return current === undefined || STATE_RANK[current] < STATE_RANK[next];
}

/** Records are kept for a while after they stop mattering, then DynamoDB's TTL removes them. */
export const RETENTION_SECONDS = {
  /** Finished jobs: long enough for the reconciler and post-mortems. */
  finished: 3 * 24 * 3600,
  /** Jobs that may still move: GitHub cancels a job queued 24 h and stops any job after 35 days. */
  open: 36 * 24 * 3600,
  /** Jobs no pool can run (often GitHub-hosted jobs of the same installation): only counted, not acted on. */
  unroutable: 24 * 3600,
} as const;
