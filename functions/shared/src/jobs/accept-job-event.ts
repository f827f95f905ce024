import { parseRunnerName } from '../dispatch/runner-name';
import { isRepositoryAllowed, type PoolsConfig } from '../pools/pools-config';
import type { Router } from '../pools/routing';
import type { JobEvent } from '../webhooks/workflow-job-event';
import type { JobState } from './job-state';
import type { JobRouting, JobStore } from './job-store';

export interface IntakePorts {
  readonly config: Pick<PoolsConfig, 'repositories' | 'runnerNamePrefix' | 'pools'>;
  readonly router: Router;
  readonly store: JobStore;
  readonly now: () => Date;
  /** The current trace (a webhook's): recorded as the job's trace by the event that creates its record. */
  readonly traceHeader?: () => string | undefined;
}

export type IntakeResult =
  | {
      readonly outcome: 'recorded' | 'unchanged';
      readonly jobId: number;
      readonly pool: string;
      readonly state: JobState;
      /** Unroutable because it is meant for GitHub-hosted runners (not counted as unroutable). */
      readonly forGitHubHosted?: true;
      /** Recorded without a pool because its repository is not in the allowlist. */
      readonly notAllowed?: true;
      /** The job's trace, as recorded. */
      readonly traceHeader?: string;
    }
  | { readonly outcome: 'ignored'; readonly jobId: number; readonly reason: string };

export const UNROUTABLE = 'unroutable';

/**
 * One `workflow_job` event into the Jobs table: a webhook (producer) or a job found queued on GitHub that no webhook
 * brought (reconciler). Allowlist, route by labels, conditional write. No GitHub call.
 */
export async function acceptJobEvent(event: JobEvent, ports: IntakePorts): Promise<IntakeResult> {
  const fullName = `${event.owner}/${event.repo}`;
  const route = ports.router.route(event.labels);
  const allowed = isRepositoryAllowed(ports.config, fullName);
  // A job of a repository outside the allowlist never gets a runner. One meant for a pool is recorded (unroutable,
  // out of every queue) so that its author is told why it waits; any other (GitHub-hosted) is not ours: ignored.
  if (!allowed && route.kind !== 'pool') return { outcome: 'ignored', jobId: event.jobId, reason: `repository ${fullName} is not in the allowlist` };
  const routing: JobRouting = !allowed
    ? { pool: undefined, reason: `repository ${fullName} is not in the allowlist` }
    : route.kind === 'pool'
      ? { pool: route.pool.name }
      : { pool: undefined, reason: route.reason };
  const recorded = await ports.store.recordWebhook(event, routing, ports.now(), ports.traceHeader?.());
  // A runner launched for another job (job stealing) or a warm slot took this job: it is spent, not idle, and its
  // record must not count it as a spare runner or tear it down (repeated on a duplicate: the write is idempotent).
  if (event.action === 'in_progress' && event.runnerName) {
    const ran = parseRunnerName(event.runnerName, ports.config.runnerNamePrefix, new Set(ports.config.pools.map((p) => p.name)));
    if (ran && ran.jobId !== event.jobId) await ports.store.markRunnerBusy(ran.jobId, event.runnerName, event.jobId);
  }
  return {
    outcome: recorded.changed ? 'recorded' : 'unchanged',
    jobId: event.jobId,
    pool: recorded.pool ?? UNROUTABLE,
    state: recorded.state,
    ...(route.kind === 'unroutable' && route.forGitHubHosted ? { forGitHubHosted: true } : {}),
    ...(!allowed ? { notAllowed: true } : {}),
    ...(recorded.traceHeader ? { traceHeader: recorded.traceHeader } : {}),
  };
}
