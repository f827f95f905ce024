import type { Logger } from '@aws-lambda-powertools/logger';
import { RequestError } from '@octokit/request-error';
import {
  cancelsRun,
  noticeText,
  resolutionText,
  type JobState,
  type NoticeImage,
  type NoticeReason,
  type Pool,
  type PoolsConfig,
  type PoolWait,
} from '@runners/shared';
import { type DynamoDbNoticeStore } from '@runners/shared/dynamodb';
import { type GitHubClient } from '@runners/shared/github';

/*
 * One notice, start to end: claim it on the job's record, cancel the run if the policy says so, write the check run,
 * record its id. GitHub answers that no retry changes (the App lacks Checks: write, the commit is unknown) end the
 * notice with the reason recorded; anything else releases the claim and fails, so the stream delivers the change again.
 */

export interface NoticePorts {
  readonly config: Pick<PoolsConfig, 'pools' | 'notices' | 'repositories'>;
  readonly notices: Pick<DynamoDbNoticeStore, 'claim' | 'settle' | 'release' | 'claimResolution' | 'releaseResolution'>;
  readonly github: Pick<GitHubClient, 'createCheckRun' | 'updateCheckRun' | 'cancelWorkflowRun' | 'installationId'>;
  readonly logger: Logger;
  readonly now: () => Date;
}

export type NoticeOutcome = 'written' | 'taken' | 'failed';

/** The states a job is in when a notice of this reason applies; the claim holds only while it still is. */
const STATES_FOR: Record<NoticeReason, readonly JobState[]> = {
  'no-pool': ['queued'],
  'not-allowed': ['queued'],
  'launch-gave-up': ['launch_failed'],
  waiting: ['queued', 'dispatched', 'launch_failed'],
};

/** A check run name per job: GitHub shows it beside the job's own check. */
export const checkRunName = (job: NoticeImage) => `runner for ${job.job.jobName}`.slice(0, 100);

export async function openNotice(job: NoticeImage, reason: NoticeReason, ports: NoticePorts, wait?: PoolWait): Promise<NoticeOutcome> {
  if (!(await ports.notices.claim(job.jobId, reason, STATES_FOR[reason], ports.now()))) return 'taken';
  const { owner, repo } = job.job;
  if (!job.job.headSha) {
    // GHES payloads before 3.x lack head_sha: there is no commit to write on.
    await ports.notices.settle(job.jobId, { failed: 'no-commit' });
    ports.logger.warn('no check run: the job has no commit', { jobId: job.jobId, reason });
    return 'failed';
  }
  try {
    const installationId = job.job.installationId ?? (await ports.github.installationId({ kind: 'repo', owner, repo }));
    const pool: Pool | undefined = ports.config.pools.find((p) => p.name === job.job.pool);
    const cancelledRun = cancelsRun(reason, pool, ports.config) && (await cancelRun(job, installationId, ports));
    const text = noticeText(reason, job, { pools: ports.config.pools, wait, cancelledRun });
    const checkRunId = await ports.github.createCheckRun(installationId, owner, repo, {
      name: checkRunName(job),
      headSha: job.job.headSha,
      externalId: String(job.jobId),
      ...text,
      // A long wait ends by itself; a job no runner will take needs someone to act.
      ...(reason === 'waiting' ? { status: 'in_progress' as const } : { status: 'completed' as const, conclusion: 'action_required' as const }),
    });
    await ports.notices.settle(job.jobId, { checkRunId, ...(cancelledRun ? { cancelledRun: true as const } : {}) });
    ports.logger.info('check run written', { jobId: job.jobId, reason, checkRunId, title: text.title, cancelledRun });
    return 'written';
  } catch (error) {
    const refused = refusal(error);
    if (refused) {
      await ports.notices.settle(job.jobId, { failed: refused });
      ports.logger.warn('GitHub refused the check run; not retried', { jobId: job.jobId, reason, refused, error: (error as Error).message });
      return 'failed';
    }
    await ports.notices.release(job.jobId);
    throw error;
  }
}

export async function resolveNotice(job: NoticeImage, outcome: 'runner' | 'ended', ports: NoticePorts): Promise<NoticeOutcome> {
  const notice = job.notice;
  if (!notice?.checkRunId || !(await ports.notices.claimResolution(job.jobId, ports.now()))) return 'taken';
  const { owner, repo } = job.job;
  try {
    const installationId = job.job.installationId ?? (await ports.github.installationId({ kind: 'repo', owner, repo }));
    const text = resolutionText(outcome, job, notice, ports.now());
    await ports.github.updateCheckRun(installationId, owner, repo, notice.checkRunId, { status: 'completed', ...text });
    ports.logger.info('check run resolved', { jobId: job.jobId, checkRunId: notice.checkRunId, outcome });
    return 'written';
  } catch (error) {
    if (refusal(error)) {
      ports.logger.warn('GitHub refused the check run update; not retried', { jobId: job.jobId, error: (error as Error).message });
      return 'failed';
    }
    await ports.notices.releaseResolution(job.jobId);
    throw error;
  }
}

async function cancelRun(job: NoticeImage, installationId: number, ports: NoticePorts): Promise<boolean> {
  try {
    await ports.github.cancelWorkflowRun(installationId, job.job.owner, job.job.repo, job.job.runId);
    ports.logger.info('workflow run cancelled: its job can never get a runner', { jobId: job.jobId, runId: job.job.runId });
    return true;
  } catch (error) {
    // Without Actions: write (or a run already finished) the job waits; the check run still says why.
    if (refusal(error)) {
      ports.logger.warn('could not cancel the workflow run', { jobId: job.jobId, runId: job.job.runId, error: (error as Error).message });
      return false;
    }
    throw error;
  }
}

/** GitHub answers that no retry changes: no permission, nothing there, refused as invalid. Rate limits are retried. */
function refusal(error: unknown): string | undefined {
  if (!(error instanceof RequestError)) return undefined;
  const headers = error.response?.headers ?? {};
  if (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(error.message)) return undefined;
  return [403, 404, 409, 422].includes(error.status) ? `github-${error.status}` : undefined;
}
