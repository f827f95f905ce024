import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STATE_RANK } from '../../jobs/job-state';
import { isWarmJobId } from '../../pools/warm-slots';
import type { HostInterruptionKind, JobRecord } from '../../jobs/job-store';
import { JOBS_TABLE } from '../../jobs/jobs-table';
import { JobsTableAccess } from './jobs-table-access';
import { UpdateBuilder } from './update-builder';
import type { ClaimOutcome, LaunchAttempt, LaunchFailure, LaunchStore } from '../../launch/launch-store';

const { slotsByPool: SLOTS, queuedByPool: QUEUE } = JOBS_TABLE.indexes;
const OURS = {
  expression: '#launchedRunner = :runner AND attribute_exists(#slotPool)',
  names: { '#launchedRunner': SLOTS.sortKey.name, '#slotPool': SLOTS.partitionKey.name },
};

export const WARM_RETRY_BASE_MS = 10 * 60_000;
export const WARM_RETRY_MAX_MS = 6 * 3600_000;

/** The slot still held for this runner, and the claim still this attempt's (see ownsLaunch). */
function attemptOwns(attempt: LaunchAttempt) {
  return {
    expression: `${OURS.expression} AND #launchClaimedAt = :claimedAt`,
    names: { ...OURS.names, '#launchClaimedAt': 'launchClaimedAt' },
    values: { ':runner': attempt.runnerName, ':claimedAt': attempt.claimedAtMs },
  };
}

export class DynamoDbLaunchStore implements LaunchStore {
  private readonly table: JobsTableAccess;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new JobsTableAccess(client, tableName);
  }

  async claim({ jobId, runnerName, claimedAtMs }: LaunchAttempt, staleBeforeMs: number): Promise<ClaimOutcome> {
    // At-least-once SQS: of two deliveries of one launch, one claims; the other sees the claim (or the host).
    // A claim left by a crashed attempt goes stale and is taken over, never a host created twice.
    const claimed = await this.table.conditionalUpdate(
      jobId,
      new UpdateBuilder().set('launchState', 'claimed').set('launchClaimedAt', claimedAtMs),
      {
        expression: `${OURS.expression} AND (attribute_not_exists(#launchState) OR (#launchState <> :created AND #launchClaimedAt < :stale))`,
        names: { ...OURS.names, '#launchState': 'launchState', '#launchClaimedAt': 'launchClaimedAt' },
        values: { ':runner': runnerName, ':created': 'created', ':stale': staleBeforeMs },
      },
      'claiming a launch',
    );
    const job = await this.table.getJob(jobId);
    if (claimed && job) return { kind: 'claimed', job };
    if (!job || job.launchedRunner !== runnerName || job.slotPool === undefined) return { kind: 'not-ours' };
    return job.launchState === 'created' ? { kind: 'created' } : { kind: 'in-progress' };
  }

  recordRegistration(attempt: LaunchAttempt, runnerId: number): Promise<boolean> {
    return this.table.conditionalUpdate(attempt.jobId, new UpdateBuilder().set('launchState', 'registered').set('launchedRunnerId', runnerId), attemptOwns(attempt), 'recording a registration');
  }

  recordHost(attempt: LaunchAttempt, hostId: string, nowMs: number): Promise<boolean> {
    const update = new UpdateBuilder().set('launchState', 'created').set('hostId', hostId).set('hostCreatedAt', new Date(nowMs).toISOString());
    return this.table.conditionalUpdate(attempt.jobId, update, attemptOwns(attempt), 'recording a host');
  }

  async failLaunch(jobId: number, runnerName: string, outcome: { readonly retryAtMs: number } | 'give-up', nowMs: number, failure?: LaunchFailure): Promise<boolean> {
    const job = await this.table.getJob(jobId);
    const update = new UpdateBuilder()
      .set('launchError', failure ? { ...failure, message: failure.message.slice(0, 1_000), at: new Date(nowMs).toISOString() } : undefined)
      .set('launchFailures', (job?.launchFailures ?? 0) + 1)
      .set('updatedAt', new Date(nowMs).toISOString())
      .set('slotReleasedAt', new Date(nowMs).toISOString())
      .set('slotReleasedBy', 'orchestrator')
      .remove(SLOTS.partitionKey.name, SLOTS.sortKey.name, 'launchState', 'launchClaimedAt', 'launchedRunnerId', 'hostId');
    // A warm slot given up again and again (a pool whose hosts never start) waits longer each time before it is opened
    // again: 10 minutes, doubling, at most 6 hours — not a paid launch every 10 minutes for ever.
    if (outcome === 'give-up' && isWarmJobId(jobId)) {
      const giveUps = (job?.warmGiveUps ?? 0) + 1;
      update.set('warmGiveUps', giveUps).set('warmRetryAt', nowMs + Math.min(WARM_RETRY_MAX_MS, WARM_RETRY_BASE_MS * 2 ** (giveUps - 1)));
    }
    if (outcome === 'give-up') update.set('state', 'launch_failed').set('stateRank', STATE_RANK.launch_failed);
    else update.set('state', 'queued').set('stateRank', STATE_RANK.queued).set(QUEUE.partitionKey.name, job?.job.pool).set('notBefore', outcome.retryAtMs);
    // Only while the job still waits for this very runner: if it started or ended meanwhile, it stays as it is.
    return this.table.conditionalUpdate(
      jobId,
      update,
      { expression: `${OURS.expression} AND #stateRank = :dispatched`, names: { ...OURS.names, '#stateRank': 'stateRank' }, values: { ':runner': runnerName, ':dispatched': STATE_RANK.dispatched } },
      'failing a launch',
    );
  }

  job(jobId: number): Promise<JobRecord | undefined> {
    return this.table.getJob(jobId);
  }

  markHostInterrupted(jobId: number, runnerName: string, kind: HostInterruptionKind, nowMs: number): Promise<boolean> {
    const update = new UpdateBuilder().set('hostInterruption', { kind, runnerName, at: new Date(nowMs).toISOString() });
    // EventBridge does not order events: a rebalance recommendation after the interruption warning does not undo it.
    const notDowngrade = kind === 'spot-interruption' ? '' : ' AND NOT (#hostInterruption.#kind = :spot AND #hostInterruption.#runnerName = :runner)';
    return this.table.conditionalUpdate(
      jobId,
      update,
      {
        expression: `#launchedRunner = :runner${notDowngrade}`,
        names: { '#launchedRunner': SLOTS.sortKey.name, ...(notDowngrade ? { '#kind': 'kind', '#runnerName': 'runnerName' } : {}) },
        values: { ':runner': runnerName, ...(notDowngrade ? { ':spot': 'spot-interruption' } : {}) },
      },
      'marking a host interrupted',
    );
  }

  classifyInterrupted(jobId: number, runnerName: string, nowMs: number): Promise<boolean> {
    const update = new UpdateBuilder().set('failureClass', 'interrupted').set('updatedAt', new Date(nowMs).toISOString());
    return this.table.conditionalUpdate(
      jobId,
      update,
      {
        expression: '#state = :completed AND #conclusion = :failure AND #runnerName = :runner AND attribute_not_exists(#failureClass)',
        names: { '#state': 'state', '#conclusion': 'conclusion', '#runnerName': 'runnerName', '#failureClass': 'failureClass' },
        values: { ':completed': 'completed', ':failure': 'failure', ':runner': runnerName },
      },
      'classifying an interrupted job',
    );
  }

  claimRerun(jobId: number, nowMs: number): Promise<boolean> {
    const update = new UpdateBuilder().set('rerunRequestedAt', new Date(nowMs).toISOString());
    return this.table.conditionalUpdate(jobId, update, { expression: 'attribute_not_exists(#rerun) AND #failureClass = :interrupted', names: { '#rerun': 'rerunRequestedAt', '#failureClass': 'failureClass' }, values: { ':interrupted': 'interrupted' } }, 'claiming a re-run');
  }

  async releaseRerun(jobId: number): Promise<void> {
    await this.table.conditionalUpdate(jobId, new UpdateBuilder().remove('rerunRequestedAt'), { expression: 'attribute_exists(#rerun)', names: { '#rerun': 'rerunRequestedAt' }, values: {} }, 'releasing a re-run');
  }
}
