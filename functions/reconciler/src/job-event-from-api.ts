import { parseWorkflowJobEvent, type JobEvent, type WorkflowJob } from '@runners/shared';

/*
 * A job as the REST API shows it, turned into the `workflow_job` event its webhook would have been: the API's job
 * object is the webhook's `workflow_job` (docs.github.com, "Get a job for a workflow run" and the workflow_job
 * webhook payload share the job schema), so the producer's own parser and intake take it unchanged.
 */

export interface JobLocation {
  readonly owner: string;
  readonly repo: string;
  readonly installationId: number;
}

export function jobEventFromApi(job: WorkflowJob, where: JobLocation, action: 'queued' | 'in_progress' | 'completed'): JobEvent {
  const payload = {
    action,
    workflow_job: job,
    repository: { full_name: `${where.owner}/${where.repo}`, name: where.repo, owner: { login: where.owner } },
    installation: { id: where.installationId },
  };
  // A delivery id of its own: the intake's conditional write, not the id, keeps a repeat from changing anything.
  return parseWorkflowJobEvent(payload, `reconciler-${job.id}-${action}`);
}
