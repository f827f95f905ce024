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
}

/** The storage contract of job records; the DynamoDB implementation is the one that ships. */
export interface JobStore {
  /** Apply one `workflow_job` webhook to the job's record, atomically and only if it moves the job forward. */
  recordWebhook(event: JobEvent, routing: JobRouting, now: Date): Promise<RecordOutcome>;
}
