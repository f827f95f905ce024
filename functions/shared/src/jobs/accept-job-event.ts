import { parseRunnerName } from '../dispatch/runner-name';
import { isRepositoryAllowed, type PoolsConfig } from '../pools/pools-config';
import type { Route, Router } from '../pools/routing';
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
 * Where a job event came from. A webhook is routed by its labels; a job routed to a pool that takes its jobs from its
 * scale set is that pool's listener's (GitHub sends the webhooks of those jobs too: one record each, not two). A scale
 * set's listener records its pool's jobs, whatever their labels.
 */
export type Intake = { readonly kind: 'webhook' } | { readonly kind: 'scaleset'; readonly pool: string };
export const WEBHOOK_INTAKE: Intake = { kind: 'webhook' };

/**
 * One `workflow_job` event into the Jobs table: a webhook (producer) or a job found queued on GitHub that no webhook
 * brought (reconciler). Allowlist, route by labels, conditional write. No GitHub call.
 */
export async function acceptJobEvent(event: JobEvent, ports: IntakePorts, intake: Intake = WEBHOOK_INTAKE): Promise<IntakeResult> {
  const fullName = `${event.owner}/${event.repo}`;
  const route = intake.kind === 'scaleset' ? scaleSetRoute(intake.pool, ports) : ports.router.route(event.labels);
  if (intake.kind === 'webhook' && route.kind === 'pool' && route.pool.intake === 'scaleset')
    return { outcome: 'ignored', jobId: event.jobId, reason: `pool ${route.pool.name} takes its jobs from its scale set` };
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
  // A job GitHub assigns to the scale set again after withdrawing it: its record is there, the withdrawal is over.
  const reassigned =
    !recorded.changed && event.action === 'queued' && event.scaleSet !== undefined
      ? await ports.store.recordReassignment(event.jobId, event.scaleSet.assignedAtMs, ports.now())
      : false;
  // A runner launched for another job (job stealing) or a warm slot took this job: it is spent, not idle, and its
  // record must not count it as a spare runner or tear it down (repeated on a duplicate: the write is idempotent).
  if (event.action === 'in_progress' && event.runnerName) {
    const ran = parseRunnerName(event.runnerName, ports.config.runnerNamePrefix, new Set(ports.config.pools.map((p) => p.name)));
    if (ran && ran.jobId !== event.jobId) await ports.store.markRunnerBusy(ran.jobId, event.runnerName, event.jobId);
  }
  return {
    outcome: recorded.changed || reassigned ? 'recorded' : 'unchanged',
    jobId: event.jobId,
    pool: recorded.pool ?? UNROUTABLE,
    state: recorded.state,
    ...(route.kind === 'unroutable' && route.forGitHubHosted ? { forGitHubHosted: true } : {}),
    ...(!allowed ? { notAllowed: true } : {}),
    ...(recorded.traceHeader ? { traceHeader: recorded.traceHeader } : {}),
  };
}

function scaleSetRoute(pool: string, ports: IntakePorts): Route {
  const found = ports.config.pools.find((p) => p.name === pool);
  return found ? { kind: 'pool', pool: found } : { kind: 'unroutable', reason: `pool ${pool} is not in the config` };
}
