import * as z from 'zod';
import { PayloadError } from '../errors';
import { toIssues } from '../zod-issues';

/*
 * The part of GitHub's `workflow_job` webhook payload we rely on. Objects are loose (GitHub adds fields over time);
 * what we read is typed strictly. Checked against every example in @octokit/webhooks-examples, GHES included: some
 * lack `installation`, `run_attempt`, `created_at` or `workflow_name`, so those are optional.
 */

export const JOB_ACTIONS = ['waiting', 'queued', 'in_progress', 'completed'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

const isoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO 8601 time');

export const workflowJobPayloadSchema = z.object({
  action: z.enum(JOB_ACTIONS),
  workflow_job: z.object({
    id: z.int().positive(),
    run_id: z.int().positive(),
    run_attempt: z.int().positive().optional(),
    name: z.string(),
    workflow_name: z.string().nullish(),
    labels: z.array(z.string()).max(100),
    runner_id: z.int().nullish(),
    runner_name: z.string().nullish(),
    conclusion: z.string().nullish(),
    created_at: isoTime.nullish(),
    started_at: isoTime.nullish(),
    completed_at: isoTime.nullish(),
    html_url: z.string().nullish(),
    head_sha: z
      .string()
      .regex(/^[0-9a-f]{40}$/)
      .nullish(),
  }),
  // owner/name from full_name: in some real payloads `owner.login` disagrees with it (an old name of the owner).
  repository: z.object({ full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected "owner/name"') }),
  installation: z.object({ id: z.int().positive() }).optional(),
});

/** A `workflow_job` webhook, reduced to what the control plane stores and acts on. */
export interface JobEvent {
  readonly action: JobAction;
  readonly deliveryId: string;
  readonly jobId: number;
  readonly runId: number;
  readonly runAttempt: number;
  readonly owner: string;
  readonly repo: string;
  readonly installationId?: number;
  readonly labels: readonly string[];
  readonly jobName: string;
  readonly workflowName?: string;
  readonly htmlUrl?: string;
  /** The commit the job runs on: where a check run about it goes. */
  readonly headSha?: string;
  /** Set by GitHub once a runner took the job (in_progress, completed); absent for a job cancelled while queued. */
  readonly runnerName?: string;
  readonly runnerId?: number;
  readonly conclusion?: string;
  readonly createdAt?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  /** A job a scale set's listener learned of (intake 'scaleset'): which assignment of it to the scale set this is. */
  readonly scaleSet?: ScaleSetAssignment;
}

/**
 * A job's assignment to a scale set. GitHub may withdraw one that no runner took in time and assign the job again
 * (actions/scaleset README, "Job Reassignment"): the assignment time tells a message of the current assignment from a
 * late one of an earlier.
 */
export interface ScaleSetAssignment {
  /** The scale set's id of the job (not the REST workflow job id). */
  readonly jobId: string;
  readonly runnerRequestId: number;
  /** When GitHub assigned the job to the scale set (epoch ms). */
  readonly assignedAtMs: number;
}

/** Validate a parsed webhook body; throws PayloadError naming each bad field. */
export function parseWorkflowJobEvent(body: unknown, deliveryId: string): JobEvent {
  const result = workflowJobPayloadSchema.safeParse(body);
  if (!result.success) throw new PayloadError(toIssues(result.error));
  const { action, workflow_job: job, repository, installation } = result.data;
  const [owner = '', repo = ''] = repository.full_name.split('/');
  const assigned = action === 'in_progress' || action === 'completed';
  return {
    action,
    deliveryId,
    jobId: job.id,
    runId: job.run_id,
    runAttempt: job.run_attempt ?? 1,
    owner,
    repo,
    installationId: installation?.id,
    labels: job.labels,
    jobName: job.name,
    workflowName: job.workflow_name ?? undefined,
    htmlUrl: job.html_url ?? undefined,
    headSha: job.head_sha ?? undefined,
    // A queued payload may carry a stale runner_name; only an assignment means something.
    runnerName: assigned ? job.runner_name || undefined : undefined,
    runnerId: assigned ? (job.runner_id ?? undefined) : undefined,
    conclusion: job.conclusion ?? undefined,
    createdAt: job.created_at ?? undefined,
    startedAt: job.started_at ?? undefined,
    completedAt: job.completed_at ?? undefined,
  };
}
