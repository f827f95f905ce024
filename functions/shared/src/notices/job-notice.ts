import { isRepositoryAllowed, type Pool, type PoolsConfig } from '../pools/pools-config';
import { defaultRunnerLabels, type Router } from '../pools/routing';
import type { JobRecord } from '../jobs/job-record';

/*
 * Why a job waits, told on GitHub. A job that cannot get a runner waits silently in GitHub's queue for 24 hours; the
 * one place its author looks is the commit's checks. So for a job in trouble — no pool has its labels, its repository
 * is not allowed, its pool gave up launching, or it has waited long in its pool's queue — the notifier writes one check
 * run on the job's commit saying so in one sentence, and updates it when the job gets a runner (or ends without one).
 * Pure: which records need a notice, and its words. Jobs not in trouble cost nothing.
 */

export type NoticeReason = 'no-pool' | 'not-allowed' | 'launch-gave-up' | 'waiting';

/** On the job record once the notifier took it on; `checkRunId` once GitHub has the check run. */
export interface JobNotice {
  readonly reason: NoticeReason;
  readonly at: string;
  readonly checkRunId?: number;
  /** Why no check run could be written (the App lacks Checks: write, no commit known); not retried. */
  readonly failed?: string;
  /** The job's workflow run was cancelled by policy. */
  readonly cancelledRun?: true;
  readonly resolvedAt?: string;
}

export type NoticeImage = Pick<JobRecord, 'jobId' | 'state' | 'job' | 'runnerName' | 'launchError' | 'traceHeader'> & { readonly notice?: JobNotice };

export type NoticeAction = { readonly kind: 'open'; readonly reason: NoticeReason } | { readonly kind: 'resolve'; readonly outcome: 'runner' | 'ended' };

export interface NoticeContext {
  readonly config: Pick<PoolsConfig, 'repositories' | 'pools' | 'notices'>;
  readonly router: Router;
}

/** What a change of a job record asks of the notifier, if anything. */
export function noticeActionOf(before: NoticeImage | undefined, after: NoticeImage | undefined, context: NoticeContext): NoticeAction | undefined {
  if (!after || !context.config.notices.checkRuns) return undefined;
  const notice = after.notice;
  if (notice) {
    // The check run exists and the job got a runner or ended: update it, once. Also when the check run's id lands
    // after the job moved on (the job started while the notifier was writing it).
    const settled = after.state === 'in_progress' || after.state === 'completed';
    const moved = before?.state !== after.state || before.notice?.checkRunId === undefined;
    if (notice.checkRunId !== undefined && notice.resolvedAt === undefined && settled && moved) {
      return { kind: 'resolve', outcome: after.runnerName ? 'runner' : 'ended' };
    }
    return undefined;
  }
  if (after.state === 'launch_failed' && before?.state !== 'launch_failed') return { kind: 'open', reason: 'launch-gave-up' };
  const becameUnroutable = after.state === 'queued' && after.job.pool === undefined && (before?.state !== 'queued' || before.job.pool !== undefined);
  if (!becameUnroutable) return undefined;
  if (!isRepositoryAllowed(context.config, `${after.job.owner}/${after.job.repo}`)) return { kind: 'open', reason: 'not-allowed' };
  const route = context.router.route(after.job.labels);
  // Not ours (a GitHub-hosted job), or a pool fits it now (the config changed since): nothing to say.
  if (route.kind === 'pool' || route.forGitHubHosted) return undefined;
  return { kind: 'open', reason: 'no-pool' };
}

/** Whether a notice of this reason cancels the job's run, by policy. */
export function cancelsRun(reason: NoticeReason, pool: Pool | undefined, config: Pick<PoolsConfig, 'notices'>): boolean {
  if (reason === 'no-pool' || reason === 'not-allowed') return config.notices.cancelUnroutableJobs;
  if (reason === 'launch-gave-up') return pool?.cancelJobsItCannotRun === true;
  return false;
}

export interface CheckRunText {
  readonly title: string;
  readonly summary: string;
}

/** The pool's state when a job has waited long: what the publisher is up against. */
export interface PoolWait {
  readonly inFlight: number;
  readonly waitedMinutes: number;
}

const MAX_LISTED_POOLS = 40;
/** GitHub's limit on a check run's summary (REST API, "Create a check run": output.summary). */
const MAX_SUMMARY = 65_535;

const labelList = (labels: readonly string[]) => `[${labels.join(', ')}]`;

/** The check run's words for a job in trouble: the title is the one sentence; the summary what to do about it. */
export function noticeText(
  reason: NoticeReason,
  job: NoticeImage,
  context: { readonly pools: readonly Pool[]; readonly wait?: PoolWait; readonly cancelledRun: boolean },
): CheckRunText {
  const pool = context.pools.find((p) => p.name === job.job.pool);
  const cancelled = context.cancelledRun ? " Its workflow run was cancelled, by the runner fleet's policy, instead of waiting 24 hours." : '';
  switch (reason) {
    case 'no-pool': {
      const listed = context.pools.slice(0, MAX_LISTED_POOLS).map((p) => `- ${p.name}: ${labelList([...defaultRunnerLabels(p), ...p.labels])}`);
      const more = context.pools.length > MAX_LISTED_POOLS ? [`- … and ${context.pools.length - MAX_LISTED_POOLS} more`] : [];
      return {
        title: `No runner pool has every label of this job: ${labelList(job.job.labels)}`,
        summary: clip(
          [
            `Job "${job.job.jobName}" asks for a runner with the labels ${labelList(job.job.labels)}. A runner takes a job only when it has every label of the job (case-insensitive), and no pool of this runner fleet has them all, so no runner will be started for it.${cancelled}`,
            '',
            "The pools and their runners' labels:",
            ...listed,
            ...more,
            '',
            "Change the job's `runs-on` to labels of one pool, or ask the fleet's operators for a pool with these labels.",
          ].join('\n'),
        ),
      };
    }
    case 'not-allowed':
      return {
        title: `${job.job.owner}/${job.job.repo} may not use this runner fleet`,
        summary: clip(
          `Job "${job.job.jobName}" asks for ${labelList(job.job.labels)}, but the repository is not in the fleet's allowlist (\`repositories\` in its pools config), so no runner will be started for it.${cancelled} Ask the fleet's operators to allow the repository.`,
        ),
      };
    case 'launch-gave-up':
      return {
        title: `Pool ${job.job.pool ?? '?'} could not start a runner for this job`,
        summary: clip(
          `Job "${job.job.jobName}" was routed to pool ${job.job.pool ?? '?'}, which gave up starting its runner${job.launchError ? `: ${job.launchError.message}` : ''}.${cancelled} The fleet's operators have been alerted by the pool's launch-failure alarm; re-run the job once the pool is fixed.`,
        ),
      };
    case 'waiting': {
      const wait = context.wait;
      const minutes = wait ? wait.waitedMinutes : 0;
      const why =
        !pool || !wait
          ? 'its pool has not started a runner for it yet'
          : wait.inFlight >= pool.maxRunners
            ? `all ${pool.maxRunners} runners of pool ${pool.name} are in use (its maxRunners)`
            : job.launchError
              ? `launches of pool ${pool.name} keep failing and are being retried: ${job.launchError.message}`
              : `pool ${pool.name} starts at most ${pool.launchesPerMinute} runners a minute and jobs queued before this one go first`;
      return {
        title: `Waiting ${minutes} minutes for a runner: ${why}`,
        summary: clip(
          `Job "${job.job.jobName}" (labels ${labelList(job.job.labels)}) is queued for pool ${job.job.pool ?? '?'}. It has waited ${minutes} minutes because ${why}. It gets a runner as soon as one is free; this check run is updated then.`,
        ),
      };
    }
  }
}

/** The update once the job got its runner, or ended without one. */
export function resolutionText(
  outcome: 'runner' | 'ended',
  job: NoticeImage,
  notice: JobNotice,
  now: Date,
): CheckRunText & { readonly conclusion: 'success' | 'neutral' } {
  const minutes = Math.max(0, Math.round((now.getTime() - Date.parse(notice.at)) / 60_000));
  if (outcome === 'runner') {
    return {
      conclusion: 'success',
      title: `Got runner ${job.runnerName}`,
      summary: `Job "${job.job.jobName}" got runner ${job.runnerName}, ${minutes} minutes after this check run was written.`,
    };
  }
  return {
    conclusion: 'neutral',
    title: 'The job ended without a runner of this fleet',
    summary: `Job "${job.job.jobName}" ended (${job.state}) without a runner of this fleet, ${minutes} minutes after this check run was written.`,
  };
}

function clip(text: string): string {
  return text.length <= MAX_SUMMARY ? text : `${text.slice(0, MAX_SUMMARY - 1)}…`;
}
