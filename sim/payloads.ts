import { createRequire } from 'node:module';
import { jobBody, type SimInstallation, type SimJob } from './model';

/*
 * workflow_job webhook payloads in the real shape: a real example from @octokit/webhooks-examples as the template
 * (repository, sender, organization…), with the job's own fields filled in.
 */

const require = createRequire(import.meta.url);
type Example = { action: string; workflow_job: Record<string, unknown>; repository: Record<string, unknown>; sender: unknown; installation?: unknown };
const template = (() => {
  const index = require('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: Example[] }[];
  const examples = index.find((e) => e.name === 'workflow_job')!.examples;
  return examples.find((e) => e.action === 'queued' && e.installation)!;
})();

export function workflowJobPayload(job: SimJob, action: 'queued' | 'in_progress' | 'completed', apiUrl: string, installation: SimInstallation) {
  const owner = { ...(template.repository.owner as Record<string, unknown>), login: job.owner, id: installation.account.id, type: installation.account.type };
  return {
    action,
    workflow_job: { ...template.workflow_job, ...jobBody(job, apiUrl) },
    repository: { ...template.repository, id: job.repoId, name: job.repo, full_name: `${job.owner}/${job.repo}`, owner },
    organization: { login: job.owner, id: installation.account.id },
    sender: template.sender,
    installation: { id: installation.id, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${installation.id}` },
  };
}
