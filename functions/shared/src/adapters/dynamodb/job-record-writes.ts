import type { JobRecord, JobDescription, HostInterruptionKind } from '../../jobs/job-record';
import { LAUNCH_PROGRESS } from '../../jobs/job-record';
import { RETENTION_SECONDS, STATE_RANK, stateOfAction, type JobState } from '../../jobs/job-state';
import type { JobRouting } from '../../jobs/job-store';
import type { LaunchAttempt, LaunchFailure } from '../../launch/launch-store';
import type { JobNotice, NoticeReason } from '../../notices/job-notice';
import type { JobEvent } from '../../webhooks/workflow-job-event';
import { UpdateBuilder } from './update-builder';

/*
 * Every write of a job record, in one place: what each transition sets and removes, and the condition under which it
 * may happen. Each is one conditional UpdateItem; a condition that does not hold means another writer got there first
 * (a duplicate delivery, a later state, a teardown that freed the slot) and nothing is written. The stores only send
 * them. Attribute names and value types come from JobRecord (UpdateBuilder is typed by it).
 *
 * A job's life, one write per line (the happy path):
 *   producer      queued         → enters its pool's queue index
 *   publisher     dispatch       → out of the queue, holds the slot of the runner launched for it
 *   orchestrator  claim          → this delivery of the launch message owns the launch
 *   orchestrator  recordHost     → registered (the runner's id) and the host made, in one write
 *   producer      in_progress    → the runner GitHub gave it
 *   producer      completed      → enters the finished index
 *   publisher     releaseFinished → slot freed and out of the finished index, in one write
 */

export interface Condition {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

export interface JobWrite {
  readonly update: UpdateBuilder;
  readonly condition: Condition;
  /** What the write does, for the error of a failed call. */
  readonly what: string;
}

type Attribute = keyof JobRecord & string;

/** A condition over record attributes: `#name` in the expression for each of `attributes`. */
function when(expression: string, attributes: readonly Attribute[], values: Record<string, unknown> = {}): Condition {
  return { expression, names: Object.fromEntries(attributes.map((a) => [`#${a}`, a])), values };
}

const and = (a: Condition, b: Condition): Condition => ({
  expression: `(${a.expression}) AND (${b.expression})`,
  names: { ...a.names, ...b.names },
  values: { ...a.values, ...b.values },
});

/** The record holds the slot of this runner. */
const holdsSlot = (runnerName: string) =>
  when('attribute_exists(#slotPool) AND #launchedRunner = :runner', ['slotPool', 'launchedRunner'], { ':runner': runnerName });

/** The record still belongs to this launch attempt: its slot held, its claim not taken over (see ownsLaunch). */
const attemptOwns = (attempt: LaunchAttempt) =>
  and(holdsSlot(attempt.runnerName), when('#launchClaimedAt = :claimedAt', ['launchClaimedAt'], { ':claimedAt': attempt.claimedAtMs }));

const iso = (ms: number) => new Date(ms).toISOString();

/** The queue index's sort key: GitHub's creation time, then the id (oldest first). */
export const queueSortKey = (createdAt: string, jobId: number) => `${createdAt}#${String(jobId).padStart(20, '0')}`;

// ——— producer ———

/** One `workflow_job` webhook: only if it moves the job forward ("stored rank below mine"). */
export function webhook(event: JobEvent, routing: JobRouting, now: Date, traceHeader: string | undefined): JobWrite {
  const state = stateOfAction(event.action);
  const nowIso = now.toISOString();
  const description: JobDescription = {
    runId: event.runId,
    runAttempt: event.runAttempt,
    owner: event.owner,
    repo: event.repo,
    installationId: event.installationId,
    labels: [...event.labels],
    jobName: event.jobName,
    workflowName: event.workflowName,
    htmlUrl: event.htmlUrl,
    headSha: event.headSha,
    createdAt: event.createdAt,
    scaleSetJobId: event.scaleSet?.jobId,
    firstSeenAt: nowIso,
    pool: routing.pool,
    unroutableReason: routing.pool === undefined ? routing.reason : undefined,
  };
  const retention = routing.pool === undefined ? RETENTION_SECONDS.unroutable : state === 'completed' ? RETENTION_SECONDS.finished : RETENTION_SECONDS.open;
  const update = new UpdateBuilder()
    // What describes the job is the same in every event of it: the first event to arrive writes it, as one map
    // (one clause, not thirteen: expression size is what a DynamoDB emulator pays for).
    .set('jobId', event.jobId, 'ifAbsent')
    .set('job', description, 'ifAbsent')
    // The first webhook's trace is the job's trace; every later hop continues it.
    .set('traceHeader', traceHeader, 'ifAbsent')
    .set('state', state)
    .set('stateRank', STATE_RANK[state])
    .set('updatedAt', nowIso)
    .set('lastDeliveryId', event.deliveryId)
    .set('expiresAt', Math.floor(now.getTime() / 1000) + retention);
  switch (state) {
    case 'queued':
      // Enter the pool's queue index. Unroutable jobs stay out of it: nothing will ever launch for them.
      if (routing.pool !== undefined) update.set('queueKey', routing.pool).set('queueSortKey', queueSortKey(event.createdAt ?? nowIso, event.jobId));
      update.set('assignedAtMs', event.scaleSet?.assignedAtMs);
      break;
    case 'in_progress':
      update
        .set('runnerName', event.runnerName)
        .set('runnerId', event.runnerId)
        .set('startedAt', event.startedAt ?? nowIso)
        .remove('queueKey', 'queueSortKey');
      break;
    case 'completed':
      // runner_name is what teardown follows (job stealing); absent when the job was cancelled while queued.
      update
        .set('runnerName', event.runnerName)
        .set('runnerId', event.runnerId)
        .set('conclusion', event.conclusion)
        .set('completedAt', event.completedAt ?? nowIso);
      update.remove('queueKey', 'queueSortKey');
      // Hand the job to the publisher: the runner that ran it, and the one launched for it, are its to deal with.
      if (routing.pool !== undefined) update.set('finishedKey', routing.pool);
      break;
    default:
      break;
  }
  // Timeline of one job, each line a conditional write on "stored rank below mine":
  //   queued (new record, enters the queue index) → duplicate queued: condition fails, nothing written
  //   completed before queued: record created as completed → late queued: condition fails, never queued
  return {
    update,
    condition: when('attribute_not_exists(#pk) OR #stateRank < :stateRank', ['pk', 'stateRank'], { ':stateRank': STATE_RANK[state] }),
    what: 'recording a webhook',
  };
}

// ——— scale-set listener ———

/** Not started yet (queued, dispatched or launch given up): what a withdrawal or a new assignment may change. */
const notStarted = when('#stateRank < :started', ['stateRank'], { ':started': STATE_RANK.in_progress });

/** A later assignment of a known job to the scale set: the withdrawal it answers is over. */
export function reassigned(assignedAtMs: number, now: Date): JobWrite {
  return {
    update: new UpdateBuilder().set('assignedAtMs', assignedAtMs).set('updatedAt', now.toISOString()).remove('withdrawnAt'),
    condition: and(
      notStarted,
      when('attribute_not_exists(#assignedAtMs) OR #assignedAtMs < :assignedAtMs', ['assignedAtMs'], { ':assignedAtMs': assignedAtMs }),
    ),
    what: 'recording a new assignment to the scale set',
  };
}

/**
 * GitHub withdrew the assignment made at `assignedAtMs` (or an earlier one's message is late: then nothing changes).
 * The record keeps its runner: the job is most likely assigned again soon, and that runner is the one to take it.
 */
export function withdrawn(assignedAtMs: number, nowMs: number): JobWrite {
  return {
    update: new UpdateBuilder().set('withdrawnAt', nowMs).set('updatedAt', new Date(nowMs).toISOString()),
    condition: and(
      and(notStarted, when('attribute_exists(#pk) AND attribute_not_exists(#withdrawnAt)', ['pk', 'withdrawnAt'])),
      when('attribute_not_exists(#assignedAtMs) OR #assignedAtMs <= :assignedAtMs', ['assignedAtMs'], { ':assignedAtMs': assignedAtMs }),
    ),
    what: 'recording a withdrawn assignment',
  };
}

/**
 * A withdrawal no new assignment followed within the grace: the job was cancelled; completed like any other. Only if
 * the record was withdrawn at `withdrawnBy` or before and not assigned again since (a new assignment removes
 * `withdrawnAt`; a newer withdrawal has its own grace): a listener that saw the withdrawal again after a crash knows
 * only when it saw it, not when it was first written.
 */
export function closeWithdrawn(pool: string, withdrawnBy: number, now: Date): JobWrite {
  return {
    update: new UpdateBuilder()
      .set('state', 'completed')
      .set('stateRank', STATE_RANK.completed)
      .set('conclusion', 'cancelled')
      .set('completedAt', now.toISOString())
      .set('updatedAt', now.toISOString())
      .set('expiresAt', Math.floor(now.getTime() / 1000) + RETENTION_SECONDS.finished)
      .set('finishedKey', pool)
      .remove('queueKey', 'queueSortKey', 'withdrawnAt'),
    condition: and(notStarted, when('#withdrawnAt <= :withdrawnBy', ['withdrawnAt'], { ':withdrawnBy': withdrawnBy })),
    what: 'closing a withdrawn job',
  };
}

/**
 * GitHub gave `runnerName` — launched for this record — another job (`busyWith`): the runner is spent. Only while the
 * record still holds its slot: a late or duplicate webhook of a runner already gone changes nothing. A warm slot whose
 * runner ran a job works: its give-ups start again from none.
 */
export function runnerBusy(runnerName: string, busyWith: number): JobWrite {
  return {
    update: new UpdateBuilder().set('busyWith', busyWith).remove('warmGiveUps', 'warmRetryAt'),
    condition: holdsSlot(runnerName),
    what: 'marking a runner busy',
  };
}

/** A job queued in `fromPool` (no longer configured) into the pool its labels route to now, keeping its place; or out of every queue. */
export function reroute(fromPool: string, routing: JobRouting, now: Date): JobWrite {
  const update = new UpdateBuilder().set('updatedAt', now.toISOString());
  if (routing.pool !== undefined) update.setPath(['job', 'pool'], routing.pool).set('queueKey', routing.pool);
  else
    update
      .removePath(['job', 'pool'])
      .setPath(['job', 'unroutableReason'], `pool ${fromPool} is no longer configured; ${routing.reason}`)
      .remove('queueKey', 'queueSortKey');
  const condition = {
    expression: '#state = :queued AND #job.#pool = :from',
    names: { '#state': 'state', '#job': 'job', '#pool': 'pool' },
    values: { ':queued': 'queued', ':from': fromPool },
  };
  return { update, condition, what: 'rerouting a job of a pool no longer configured' };
}

// ——— publisher ———

export interface DispatchWrite {
  readonly pool: string;
  readonly runnerName: string;
  readonly attempt: number;
  readonly at: Date;
}

/** queued → dispatched, holding the slot of a new runner. Only a job still queued: a second publisher, a late in_progress or completed, all make it a no-op. */
export function dispatch(d: DispatchWrite): JobWrite {
  const update = new UpdateBuilder()
    .set('state', 'dispatched')
    .set('stateRank', STATE_RANK.dispatched)
    .set('dispatchedAt', d.at.toISOString())
    .set('updatedAt', d.at.toISOString())
    .set('launchAttempt', d.attempt)
    .set('slotPool', d.pool)
    .set('launchedRunner', d.runnerName)
    // Out of the queue index; the sort key stays, so that a requeue restores the job's place. A new runner: nothing of
    // the last one (its launch, its host, the job it took) carries over.
    .remove('queueKey', ...LAUNCH_PROGRESS);
  return { update, condition: when('#stateRank = :queuedRank', ['stateRank'], { ':queuedRank': STATE_RANK.queued }), what: 'dispatching' };
}

/** dispatched → queued again, releasing the slot of `runnerName`: only while the job still waits for that very runner. */
export function requeue(pool: string, runnerName: string, at: Date, releasedBy: string): JobWrite {
  const update = new UpdateBuilder()
    .set('state', 'queued')
    .set('stateRank', STATE_RANK.queued)
    .set('updatedAt', at.toISOString())
    .set('queueKey', pool)
    .set('slotReleasedAt', at.toISOString())
    .set('slotReleasedBy', releasedBy)
    .remove('slotPool', 'launchedRunner', 'busyWith');
  return {
    update,
    condition: when('#stateRank = :dispatchedRank AND #launchedRunner = :runner', ['stateRank', 'launchedRunner'], {
      ':dispatchedRank': STATE_RANK.dispatched,
      ':runner': runnerName,
    }),
    what: 'requeueing',
  };
}

/**
 * Back to the queue after its runner was lost to another job (that runner ran it; the slot is already free): only
 * while the job still waits, dispatched, for that runner.
 */
export function requeueAfterLoss(pool: string, runnerName: string, at: Date): JobWrite {
  const update = new UpdateBuilder()
    .set('state', 'queued')
    .set('stateRank', STATE_RANK.queued)
    .set('updatedAt', at.toISOString())
    .set('queueKey', pool)
    .remove('launchedRunner');
  return {
    update,
    condition: when(
      '#stateRank = :dispatchedRank AND #launchedRunner = :runner AND attribute_not_exists(#slotPool)',
      ['stateRank', 'launchedRunner', 'slotPool'],
      { ':dispatchedRank': STATE_RANK.dispatched, ':runner': runnerName },
    ),
    what: 'requeueing a job whose runner ran another',
  };
}

/** Frees the slot of `runnerName`: exactly once per runner, by whichever release comes first. */
export function releaseSlot(runnerName: string, releasedBy: string, at: Date): JobWrite {
  const update = new UpdateBuilder().set('slotReleasedAt', at.toISOString()).set('slotReleasedBy', releasedBy).remove('slotPool');
  return { update, condition: holdsSlot(runnerName), what: 'releasing a slot' };
}

/** A finished job that ran on its own runner: the slot freed and out of the finished index, in one write. */
export function releaseFinished(runnerName: string, at: Date): JobWrite {
  const update = new UpdateBuilder().set('slotReleasedAt', at.toISOString()).set('slotReleasedBy', 'publisher').remove('slotPool', 'finishedKey');
  return { update, condition: holdsSlot(runnerName), what: 'releasing a finished job' };
}

/** The publisher has dealt with this completed job. */
export function clearFinished(): JobWrite {
  return { update: new UpdateBuilder().remove('finishedKey'), condition: when('attribute_exists(#pk)', ['pk']), what: 'clearing a finished job' };
}

export interface WarmSlotWrite {
  readonly pool: string;
  readonly jobId: number;
  readonly owner: string;
  readonly repo: string;
  readonly labels: readonly string[];
}

/**
 * A warm slot into the pool's queue, after the pool's jobs ('~' sorts after their timestamps). Only a slot neither
 * queued nor holding a runner; one whose launches failed waits out its back-off (warmRetryAt, growing with each
 * give-up), or, given up before there was one, the cool-down (`failedBefore`).
 */
export function openWarmSlot(slot: WarmSlotWrite, at: Date, failedBefore: Date): JobWrite {
  const nowIso = at.toISOString();
  const description: JobDescription = {
    runId: 0,
    runAttempt: 1,
    owner: slot.owner,
    repo: slot.repo,
    labels: [...slot.labels],
    jobName: 'warm runner',
    firstSeenAt: nowIso,
    pool: slot.pool,
  };
  const update = new UpdateBuilder()
    .set('jobId', slot.jobId)
    .set('job', description)
    .set('state', 'queued')
    .set('stateRank', STATE_RANK.queued)
    .set('updatedAt', nowIso)
    .set('lastDeliveryId', 'warm-pool')
    .set('expiresAt', Math.floor(at.getTime() / 1000) + RETENTION_SECONDS.open)
    .set('queueKey', slot.pool)
    .set('queueSortKey', `~warm#${String(slot.jobId).padStart(20, '0')}`)
    .remove(...LAUNCH_PROGRESS, 'notBefore', 'launchFailures', 'launchedRunner');
  const condition = when(
    'attribute_not_exists(#pk) OR (attribute_not_exists(#slotPool) AND attribute_not_exists(#queueKey) AND (#stateRank <> :failed OR #warmRetryAt < :now OR (attribute_not_exists(#warmRetryAt) AND #updatedAt < :failedBefore)))',
    ['pk', 'slotPool', 'queueKey', 'stateRank', 'warmRetryAt', 'updatedAt'],
    { ':failed': STATE_RANK.launch_failed, ':failedBefore': failedBefore.toISOString(), ':now': at.getTime() },
  );
  return { update, condition, what: 'opening a warm slot' };
}

// ——— orchestrators ———

/**
 * At-least-once SQS: of two deliveries of one launch, one claims; the other sees the claim (or the host). A claim left
 * by a crashed attempt goes stale (older than `staleBeforeMs`) and is taken over, never a host created twice.
 */
export function claimLaunch({ runnerName, claimedAtMs }: LaunchAttempt, staleBeforeMs: number): JobWrite {
  return {
    update: new UpdateBuilder().set('launchState', 'claimed').set('launchClaimedAt', claimedAtMs),
    condition: and(
      holdsSlot(runnerName),
      when('attribute_not_exists(#launchState) OR (#launchState <> :created AND #launchClaimedAt < :stale)', ['launchState', 'launchClaimedAt'], {
        ':created': 'created',
        ':stale': staleBeforeMs,
      }),
    ),
    what: 'claiming a launch',
  };
}

/**
 * The launch made its runner's registration and host: both recorded in one write (a crash before it is resumed by
 * the next delivery, which finds the registration by its name). Only while the attempt still owns the record.
 */
export function recordHost(attempt: LaunchAttempt, runnerId: number, hostId: string, nowMs: number): JobWrite {
  const update = new UpdateBuilder().set('launchState', 'created').set('launchedRunnerId', runnerId).set('hostId', hostId).set('hostCreatedAt', iso(nowMs));
  return { update, condition: attemptOwns(attempt), what: 'recording a host' };
}

export const WARM_RETRY_BASE_MS = 10 * 60_000;
export const WARM_RETRY_MAX_MS = 6 * 3600_000;

/**
 * The launch of `runnerName` failed: the job goes back to its pool's queue (not before `retryAtMs`) or is given up,
 * its slot freed, the failure on the record. `job` is the record as the caller last read it (its pool, failures and
 * give-ups so far). Only while the job still waits, dispatched, for this very runner.
 */
export function failLaunch(
  job: Pick<JobRecord, 'jobId' | 'job' | 'launchFailures' | 'warmGiveUps'>,
  runnerName: string,
  outcome: { readonly retryAtMs: number } | 'give-up',
  nowMs: number,
  failure: LaunchFailure | undefined,
  warm: boolean,
): JobWrite {
  const update = new UpdateBuilder()
    .set('launchError', failure ? { ...failure, message: failure.message.slice(0, 1_000), at: iso(nowMs) } : undefined)
    .set('launchFailures', (job.launchFailures ?? 0) + 1)
    .set('updatedAt', iso(nowMs))
    .set('slotReleasedAt', iso(nowMs))
    .set('slotReleasedBy', 'orchestrator')
    .remove('slotPool', 'launchedRunner', ...LAUNCH_PROGRESS);
  // A warm slot given up again and again (a pool whose hosts never start) waits longer each time before it is opened
  // again: 10 minutes, doubling, at most 6 hours — not a paid launch every 10 minutes for ever.
  if (outcome === 'give-up' && warm) {
    const giveUps = (job.warmGiveUps ?? 0) + 1;
    update.set('warmGiveUps', giveUps).set('warmRetryAt', nowMs + Math.min(WARM_RETRY_MAX_MS, WARM_RETRY_BASE_MS * 2 ** (giveUps - 1)));
  }
  if (outcome === 'give-up') update.set('state', 'launch_failed').set('stateRank', STATE_RANK.launch_failed);
  else update.set('state', 'queued').set('stateRank', STATE_RANK.queued).set('queueKey', job.job.pool).set('notBefore', outcome.retryAtMs);
  return {
    update,
    condition: and(holdsSlot(runnerName), when('#stateRank = :dispatched', ['stateRank'], { ':dispatched': STATE_RANK.dispatched })),
    what: 'failing a launch',
  };
}

/** The host of `runnerName` will be reclaimed. EventBridge does not order events: a rebalance recommendation after the interruption warning does not undo it. */
export function hostInterrupted(runnerName: string, kind: HostInterruptionKind, nowMs: number): JobWrite {
  const update = new UpdateBuilder().set('hostInterruption', { kind, runnerName, at: iso(nowMs) });
  const condition =
    kind === 'spot-interruption'
      ? when('#launchedRunner = :runner', ['launchedRunner'], { ':runner': runnerName })
      : {
          expression: '#launchedRunner = :runner AND NOT (#hostInterruption.#kind = :spot AND #hostInterruption.#runnerName = :runner)',
          names: { '#launchedRunner': 'launchedRunner', '#hostInterruption': 'hostInterruption', '#kind': 'kind', '#runnerName': 'runnerName' },
          values: { ':runner': runnerName, ':spot': 'spot-interruption' },
        };
  return { update, condition, what: 'marking a host interrupted' };
}

/** A failed job classified as interrupted (its runner's host was reclaimed), once. */
export function classifyInterrupted(runnerName: string, nowMs: number): JobWrite {
  return {
    update: new UpdateBuilder().set('failureClass', 'interrupted').set('updatedAt', iso(nowMs)),
    condition: when(
      '#state = :completed AND #conclusion = :failure AND #runnerName = :runner AND attribute_not_exists(#failureClass)',
      ['state', 'conclusion', 'runnerName', 'failureClass'],
      { ':completed': 'completed', ':failure': 'failure', ':runner': runnerName },
    ),
    what: 'classifying an interrupted job',
  };
}

export function claimRerun(nowMs: number): JobWrite {
  return {
    update: new UpdateBuilder().set('rerunRequestedAt', iso(nowMs)),
    condition: when('attribute_not_exists(#rerunRequestedAt) AND #failureClass = :interrupted', ['rerunRequestedAt', 'failureClass'], {
      ':interrupted': 'interrupted',
    }),
    what: 'claiming a re-run',
  };
}

export function releaseRerun(): JobWrite {
  return {
    update: new UpdateBuilder().remove('rerunRequestedAt'),
    condition: when('attribute_exists(#rerunRequestedAt)', ['rerunRequestedAt']),
    what: 'releasing a re-run',
  };
}

// ——— notifier ———

/** Takes the job on for a notice, while it is still in one of `states` and has none. */
export function claimNotice(reason: NoticeReason, states: readonly JobState[], now: Date): JobWrite {
  const values = Object.fromEntries(states.map((s, i) => [`:s${i}`, s]));
  return {
    update: new UpdateBuilder().set('notice', { reason, at: now.toISOString() } satisfies JobNotice),
    condition: when(`attribute_not_exists(#notice) AND #state IN (${Object.keys(values).join(', ')})`, ['notice', 'state'], values),
    what: 'claiming a notice',
  };
}

/** What came of the claim: the check run's id, or why there is none; and whether the run was cancelled. */
export function settleNotice(outcome: Pick<JobNotice, 'checkRunId' | 'failed' | 'cancelledRun'>): JobWrite {
  const update = new UpdateBuilder();
  for (const [key, value] of Object.entries(outcome)) update.setPath(['notice', key], value);
  return { update, condition: when('attribute_exists(#notice)', ['notice']), what: 'recording a notice' };
}

/** GitHub could not be reached: the next delivery of the change tries again. */
export function releaseNotice(): JobWrite {
  return {
    update: new UpdateBuilder().remove('notice'),
    condition: {
      expression: 'attribute_exists(#notice) AND attribute_not_exists(#notice.#checkRunId)',
      names: { '#notice': 'notice', '#checkRunId': 'checkRunId' },
      values: {},
    },
    what: 'releasing a notice',
  };
}

export function claimNoticeResolution(now: Date): JobWrite {
  return {
    update: new UpdateBuilder().setPath(['notice', 'resolvedAt'], now.toISOString()),
    condition: {
      expression: 'attribute_exists(#notice.#checkRunId) AND attribute_not_exists(#notice.#resolvedAt)',
      names: { '#notice': 'notice', '#checkRunId': 'checkRunId', '#resolvedAt': 'resolvedAt' },
      values: {},
    },
    what: 'claiming a notice resolution',
  };
}

export function releaseNoticeResolution(): JobWrite {
  return {
    update: new UpdateBuilder().removePath(['notice', 'resolvedAt']),
    condition: when('attribute_exists(#notice)', ['notice']),
    what: 'releasing a notice resolution',
  };
}
