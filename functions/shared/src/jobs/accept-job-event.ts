import { parseRunnerName } from '../dispatch/runner-name';
import { isRepositoryAllowed, type PoolsConfig } from '../pools/pools-config';
import type { Router } from '../pools/routing';
import { isWarmJobId } from '../pools/warm-pool';
import type { JobEvent } from '../webhooks/workflow-job-event';
import type { JobState } from './job-state';
import type { JobRouting, JobStore } from './job-store';

export interface IntakePorts {
  readonly config: Pick<PoolsConfig, 'repositories' | 'runnerNamePrefix' | 'pools'>;
  readonly router: Router;
  readonly store: JobStore;
  readonly now: () => Date;
}

export type IntakeResult =
  | {
      readonly outcome: 'recorded' | 'unchanged';
      readonly jobId: number;
      readonly pool: string;
      readonly state: JobState;
      /** Unroutable because it is meant for GitHub-hosted runners (not counted as unroutable). */
      readonly forGitHubHosted?: true;
    }
  | { readonly outcome: 'ignored'; readonly jobId: number; readonly reason: string };

export const UNROUTABLE = 'unroutable';

/**
 * One `workflow_job` event into the Jobs table: a webhook (producer) or a job found queued on GitHub that no webhook
 * brought (reconciler). Allowlist, route by labels, conditional write. No GitHub call.
 */
export async function acceptJobEvent(event: JobEvent, ports: IntakePorts): Promise<IntakeResult> {
  const fullName = `${event.owner}/${event.repo}`;
  if (!isRepositoryAllowed(ports.config, fullName)) {
    return { outcome: 'ignored', jobId: event.jobId, reason: `repository ${fullName} is not in the allowlist` };
  }
  const route = ports.router.route(event.labels);
  const routing: JobRouting = route.kind === 'pool' ? { pool: route.pool.name } : { pool: undefined, reason: route.reason };
  const recorded = await ports.store.recordWebhook(event, routing, ports.now());
  // A warm runner took this job: it no longer counts as idle (repeated on a duplicate: the write is idempotent).
  if (event.action === 'in_progress' && event.runnerName) {
    const ran = parseRunnerName(event.runnerName, ports.config.runnerNamePrefix, new Set(ports.config.pools.map((p) => p.name)));
    if (ran && isWarmJobId(ran.jobId)) await ports.store.markWarmRunnerBusy(ran.jobId, event.runnerName, event.jobId);
  }
  return {
    outcome: recorded.changed ? 'recorded' : 'unchanged',
    jobId: event.jobId,
    pool: recorded.pool ?? UNROUTABLE,
    state: recorded.state,
    ...(route.kind === 'unroutable' && route.forGitHubHosted ? { forGitHubHosted: true } : {}),
  };
}
