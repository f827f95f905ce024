import { createHash } from 'node:crypto';
import type { JobEvent } from '../webhooks/workflow-job-event';

/*
 * A scale set's job messages as job events: what the listener writes through the same intake as the producer's
 * webhooks (the same record, the same state machine). The scale set names a job by its own id — a string, not the
 * REST workflow job id (cloudbase/garm PR #459, #622) — so a scale-set job's record id is a number derived from it,
 * in a range no GitHub job id reaches (2^51 up to the warm slots' 2^52; GitHub's ids are ~10^10).
 *
 *   JobAvailable                → acquire it (GHES waits for this; github.com assigns on its own)
 *   JobAssigned                 → queued (a new record), or a known job assigned again after a withdrawal
 *   JobStarted                  → in_progress, with the runner that took it (any runner of the scale set may)
 *   JobCompleted with a runner  → completed: its runner is torn down like a webhook's
 *   JobCompleted without one    → the assignment withdrawn (no runner took it in time, or cancelled before one did:
 *                                 GitHub sends the same message for both); closed as cancelled only if no new
 *                                 assignment follows within the listener's grace
 */

const SCALE_SET_JOB_BASE = 2 ** 51;

/** The record id of a scale-set job: stable for its scale-set id, so each of its messages finds the same record. */
export function scaleSetJobNumber(scaleSetJobId: string, runnerRequestId: number): number {
  // garm PR #459: older messages lack jobId; then the request id is all there is (one record per assignment).
  const key = scaleSetJobId !== '' ? `job:${scaleSetJobId}` : `request:${runnerRequestId}`;
  const digest = createHash('sha256').update(key).digest();
  return SCALE_SET_JOB_BASE + Number(digest.readBigUInt64BE(0) % BigInt(SCALE_SET_JOB_BASE));
}

export function isScaleSetJobNumber(jobId: number): boolean {
  return jobId >= SCALE_SET_JOB_BASE && jobId < 2 * SCALE_SET_JOB_BASE;
}

/** A job message as the listener reads it (the scale-set adapter's parsed message fits it). */
export interface ScaleSetJobMessage {
  readonly messageType: 'JobAvailable' | 'JobAssigned' | 'JobStarted' | 'JobCompleted';
  readonly runnerRequestId: number;
  readonly repositoryName: string;
  readonly ownerName: string;
  readonly jobId: string;
  readonly jobDisplayName?: string;
  readonly jobWorkflowRef?: string;
  readonly workflowRunId: number;
  readonly requestLabels: readonly string[];
  readonly queueTime?: string;
  readonly scaleSetAssignTime?: string;
  readonly runnerAssignTime?: string;
  readonly finishTime?: string;
  readonly runnerId?: number;
  readonly runnerName?: string;
  readonly result?: string;
}

export type ScaleSetIntake =
  | { readonly kind: 'acquire'; readonly runnerRequestId: number }
  | { readonly kind: 'event'; readonly event: JobEvent }
  | { readonly kind: 'withdrawal'; readonly jobId: number; readonly assignedAtMs: number; readonly scaleSetJobId: string }
  | { readonly kind: 'skip'; readonly reason: string };

export interface ScaleSetContext {
  readonly installationId: number;
  /** Where the message came from, for the record's `lastDeliveryId`: `scaleset:<scale set>:<message>`. */
  readonly deliveryId: string;
  readonly now: Date;
}

/** The scale set's job results, as webhook conclusions (its values are TaskResult names, lower case). */
const CONCLUSIONS: Record<string, string> = {
  succeeded: 'success',
  succeededwithissues: 'success',
  failed: 'failure',
  canceled: 'cancelled',
  cancelled: 'cancelled',
};

const ms = (time: string | undefined) => (time === undefined ? undefined : Date.parse(time));

export function intakeOfJobMessage(message: ScaleSetJobMessage, context: ScaleSetContext): ScaleSetIntake {
  if (message.messageType === 'JobAvailable') return { kind: 'acquire', runnerRequestId: message.runnerRequestId };
  if (message.jobId === '' && message.runnerRequestId <= 0) return { kind: 'skip', reason: 'neither jobId nor runnerRequestId' };
  const jobId = scaleSetJobNumber(message.jobId, message.runnerRequestId);
  const assignedAtMs = ms(message.scaleSetAssignTime) ?? ms(message.queueTime);
  if (message.messageType === 'JobCompleted' && message.runnerName === undefined) {
    // Which assignment it withdraws decides whether it is late; without its time it cannot be told apart from a late
    // one, so nothing is closed on a guess: the next assignment moves the job on; if none comes, the runner launched
    // for it is removed by the host rules' idle limit (the reconciler's REST checks cannot see scale-set jobs).
    if (assignedAtMs === undefined) return { kind: 'skip', reason: 'a withdrawal without the assignment time it withdraws' };
    return { kind: 'withdrawal', jobId, assignedAtMs, scaleSetJobId: message.jobId };
  }
  const action = message.messageType === 'JobAssigned' ? 'queued' : message.messageType === 'JobStarted' ? 'in_progress' : 'completed';
  const event: JobEvent = {
    action,
    deliveryId: context.deliveryId,
    jobId,
    runId: message.workflowRunId > 0 ? message.workflowRunId : 1,
    runAttempt: 1,
    owner: message.ownerName,
    repo: message.repositoryName,
    installationId: context.installationId,
    labels: [...message.requestLabels],
    jobName: message.jobDisplayName ?? message.jobWorkflowRef ?? 'job',
    createdAt: message.queueTime,
    ...(action !== 'queued' ? { runnerName: message.runnerName, runnerId: message.runnerId, startedAt: message.runnerAssignTime } : {}),
    ...(action === 'completed'
      ? { conclusion: CONCLUSIONS[(message.result ?? '').toLowerCase()] ?? message.result?.toLowerCase(), completedAt: message.finishTime }
      : {}),
    scaleSet: { jobId: message.jobId, runnerRequestId: message.runnerRequestId, assignedAtMs: assignedAtMs ?? context.now.getTime() },
  };
  return { kind: 'event', event };
}
