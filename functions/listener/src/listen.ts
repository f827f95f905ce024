import type { Logger } from '@aws-lambda-powertools/logger';
import {
  acceptJobEvent,
  intakeOfJobMessage,
  scaleSetPools,
  type IntakePorts,
  type ListenerLease,
  type ListenerState,
  type Pool,
  type PoolsConfig,
} from '@runners/shared';
import {
  MessageQueueTokenExpiredError,
  ScaleSetApiError,
  scaleSetTargetOf,
  type MessageSession,
  type ScaleSetMessage,
  type ScaleSets,
  type ScaleSetStatistics,
  type ScaleSetTarget,
} from '@runners/shared/scaleset';

/*
 * A scale-set pool's intake: hold the pool's lease, open the scale set's message session, and long-poll its queue
 * until shortly before this invocation must end; then hand over (session deleted, lease released with the time named,
 * so the next scheduled invocation takes over at once). Each job message goes through the producer's intake (same
 * record, same state machine, idempotent and order-safe) before its message is acknowledged: a listener that dies
 * between the two leaves the message unacknowledged, GitHub gives it to the next session, and writing it again changes
 * nothing. (actions/scaleset's listener acknowledges first and would lose it.)
 */

export interface ListenerLimits {
  /** The lease runs out this long after its last renewal: a dead listener's successor waits at most this. */
  readonly leaseMs: number;
  readonly renewEveryMs: number;
  /** Stop polling this long before the invocation's end: time to acknowledge, delete the session, hand over. */
  readonly stopBeforeEndMs: number;
  /** A successor waits this long at most for a holder's named hand-over. */
  readonly handoverWaitMs: number;
  /** A session conflict (another owner's session, until GitHub reaps it) is tried again after this. */
  readonly conflictRetryMs: number;
  /** A withdrawn assignment not followed by a new one within this is a cancelled job. */
  readonly withdrawnGraceMs: number;
  /** After an error the service kept answering (5xx past the client's retries), the poll starts again after this. */
  readonly errorPauseMs: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  leaseMs: 30_000,
  renewEveryMs: 10_000,
  stopBeforeEndMs: 20_000,
  handoverWaitMs: 75_000,
  conflictRetryMs: 15_000,
  withdrawnGraceMs: 5 * 60_000,
  errorPauseMs: 5_000,
};

/** The App that registers a pool's runners: its scale sets and its installation for a scope. */
export interface ScaleSetApp {
  readonly scaleSets: Pick<ScaleSets, 'service' | 'scaleSetId' | 'forget'>;
  installation(target: ScaleSetTarget): Promise<number>;
}

export type ListenerLogger = Pick<Logger, 'info' | 'warn'>;

export interface ListenerPorts {
  readonly config: PoolsConfig;
  readonly lease: ListenerLease;
  readonly intake: IntakePorts;
  readonly appOf: (pool: Pool) => ScaleSetApp;
  readonly deploymentLabel?: string;
  /** This invocation: the lease's holder, and the session's owner name GitHub shows. */
  readonly holder: string;
  readonly limits: ListenerLimits;
  readonly nowMs: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly logger: ListenerLogger;
  /** After each message or empty poll: what GitHub says of the scale set now. */
  readonly onStatistics?: (pool: string, statistics: ScaleSetStatistics) => void;
}

export interface ListenReport {
  readonly pool: string;
  readonly outcome: 'listened' | 'held-by-another' | 'lease-lost';
  readonly messages: number;
  readonly jobMessages: number;
  readonly recorded: number;
  readonly acquired: number;
  readonly withdrawn: number;
  readonly closedWithdrawn: number;
  readonly sessions: number;
  readonly sessionConflicts: number;
  /** Sessions of a predecessor this listener ended (it had died, or handed over). */
  readonly predecessorSessionsEnded: number;
  readonly statistics?: ScaleSetStatistics;
}

/** Listens on every scale-set pool whose lease this invocation gets, until `endsAt` (epoch ms) nears. */
export async function listen(ports: ListenerPorts, endsAt: number): Promise<ListenReport[]> {
  return Promise.all(scaleSetPools(ports.config.pools).map((pool) => listenOnPool(pool, ports, endsAt)));
}

type Counters = { -readonly [K in keyof ListenReport]: ListenReport[K] };

async function listenOnPool(pool: Pool, ports: ListenerPorts, endsAt: number): Promise<ListenReport> {
  const { lease, limits, holder, logger } = ports;
  const report: Counters = {
    pool: pool.name,
    outcome: 'listened',
    messages: 0,
    jobMessages: 0,
    recorded: 0,
    acquired: 0,
    withdrawn: 0,
    closedWithdrawn: 0,
    sessions: 0,
    sessionConflicts: 0,
    predecessorSessionsEnded: 0,
  };
  const stopAt = endsAt - limits.stopBeforeEndMs;
  const taken = await takeLease(pool.name, ports, stopAt);
  if (!taken) return { ...report, outcome: 'held-by-another' };

  const target = scaleSetTargetOf(ports.config, pool, ports.deploymentLabel);
  const app = ports.appOf(pool);
  const installationId = await app.installation(target);
  const service = app.scaleSets.service(installationId, target.scope);
  const withdrawals = new Map(Object.entries(taken.withdrawals).map(([id, at]) => [Number(id), at]));
  let scaleSetId = await app.scaleSets.scaleSetId(installationId, target);
  let session: MessageSession | undefined;
  const state = (): ListenerState => ({
    scaleSetId,
    ...(session ? { sessionId: session.sessionId } : {}),
    withdrawals: Object.fromEntries([...withdrawals].map(([id, at]) => [String(id), at])),
  });

  // The lease is renewed beside the long poll; losing it aborts the poll at once.
  const lost = new AbortController();
  let renewing = Promise.resolve();
  const renewal = setInterval(() => {
    renewing = renewing.then(async () => {
      if (lost.signal.aborted) return;
      if (!(await lease.renew(pool.name, holder, ports.nowMs() + limits.leaseMs, state()))) lost.abort();
    });
  }, limits.renewEveryMs);
  // The renewal alone never keeps a process alive (the poll does while it runs).
  renewal.unref?.();
  const pause = (ms: number) => ports.sleep(Math.max(0, Math.min(ms, stopAt - ports.nowMs())), lost.signal).catch(() => undefined);

  try {
    // A predecessor's session (it died, or handed over without ending it): GitHub allows one per scale set.
    if (taken.sessionId !== undefined && taken.scaleSetId !== undefined) {
      if ((await service.deleteSession(taken.scaleSetId, taken.sessionId).catch(() => 'absent' as const)) === 'deleted') report.predecessorSessionsEnded++;
    }
    let lastMessageId = 0;
    while (!lost.signal.aborted && ports.nowMs() < stopAt) {
      if (!session) {
        session = await openSession();
        if (!session) break;
        lastMessageId = 0;
        ports.onStatistics?.(pool.name, session.statistics);
        if (!(await lease.renew(pool.name, holder, ports.nowMs() + limits.leaseMs, state()))) lost.abort();
        continue;
      }
      const stop = AbortSignal.any([lost.signal, AbortSignal.timeout(Math.max(1, stopAt - ports.nowMs()))]);
      let message: ScaleSetMessage | undefined;
      try {
        message = await session.nextMessage({ lastMessageId, maxCapacity: pool.maxRunners, signal: stop });
      } catch (error) {
        if (stop.aborted) break;
        if (isGone(error)) {
          // The scale set was deleted on GitHub's side, or the session ended: made again, then a new session.
          if (error instanceof ScaleSetApiError && error.is('RunnerScaleSetNotFoundException')) {
            logger.warn('scale set gone: making it again', { pool: pool.name, scaleSetId });
            app.scaleSets.forget(installationId, target);
            scaleSetId = await app.scaleSets.scaleSetId(installationId, target);
          }
          session = undefined;
          continue;
        }
        logger.warn('message queue failed; polling again', { pool: pool.name, error: String(error) });
        await pause(limits.errorPauseMs);
        continue;
      }
      if (message) {
        await handleMessage(message, session, scaleSetId);
        lastMessageId = message.messageId;
        ports.onStatistics?.(pool.name, message.statistics);
        report.statistics = message.statistics;
      }
      await closeWithdrawals();
    }
  } finally {
    clearInterval(renewal);
    await renewing;
  }
  if (lost.signal.aborted) {
    // Another listener has the pool now; it ends this session itself.
    logger.warn('lease lost: stopped listening', { pool: pool.name });
    return { ...report, outcome: 'lease-lost' };
  }
  if (session) await session.close().catch((error: unknown) => logger.warn('session not deleted', { pool: pool.name, error: String(error) }));
  session = undefined;
  await lease.release(pool.name, holder, state());
  return report;

  async function openSession(): Promise<MessageSession | undefined> {
    while (!lost.signal.aborted && ports.nowMs() < stopAt) {
      try {
        const opened = await service.openSession(scaleSetId, holder);
        report.sessions++;
        return opened;
      } catch (error) {
        if (error instanceof ScaleSetApiError && error.is('RunnerScaleSetNotFoundException')) {
          app.scaleSets.forget(installationId, target);
          scaleSetId = await app.scaleSets.scaleSetId(installationId, target);
          continue;
        }
        if (!(error instanceof ScaleSetApiError && error.is('RunnerScaleSetSessionConflictException'))) throw error;
        // Another owner's session: a listener of ours that died without leaving its id, or another deployment
        // listening on the same scale set. GitHub reaps an idle session; until then, wait.
        report.sessionConflicts++;
        logger.warn('the scale set has another session; waiting', { pool: pool.name, scaleSetId, detail: error.message });
        await pause(limits.conflictRetryMs);
      }
    }
    return undefined;
  }

  async function handleMessage(message: ScaleSetMessage, open: MessageSession, fromScaleSet: number): Promise<void> {
    report.messages++;
    report.jobMessages += message.jobMessages.length;
    const context = { installationId, deliveryId: `scaleset:${fromScaleSet}:${message.messageId}`, now: new Date(ports.nowMs()) };
    const intakes = message.jobMessages.map((jobMessage) => intakeOfJobMessage(jobMessage, context));
    const available = intakes.flatMap((i) => (i.kind === 'acquire' ? [i.runnerRequestId] : []));
    if (available.length > 0) report.acquired += (await open.acquireJobs(available)).length;
    for (const intake of intakes) {
      if (intake.kind === 'event') {
        const result = await acceptJobEvent(intake.event, ports.intake, { kind: 'scaleset', pool: pool.name });
        if (result.outcome === 'recorded') report.recorded++;
        withdrawals.delete(intake.event.jobId);
      } else if (intake.kind === 'withdrawal') {
        const at = ports.nowMs();
        if (await ports.intake.store.recordWithdrawal(intake.jobId, intake.assignedAtMs, at)) {
          withdrawals.set(intake.jobId, at);
          report.withdrawn++;
        }
      } else if (intake.kind === 'skip') logger.warn('job message skipped', { pool: pool.name, reason: intake.reason });
    }
    await open.deleteMessage(message.messageId);
  }

  async function closeWithdrawals(): Promise<void> {
    const now = ports.nowMs();
    for (const [jobId, at] of withdrawals) {
      if (now - at < limits.withdrawnGraceMs) continue;
      withdrawals.delete(jobId);
      if (await ports.intake.store.closeWithdrawn(jobId, pool.name, at, new Date(now))) report.closedWithdrawn++;
    }
  }
}

const isGone = (error: unknown) =>
  error instanceof MessageQueueTokenExpiredError ||
  (error instanceof ScaleSetApiError &&
    (error.is('RunnerScaleSetNotFoundException') || error.is('RunnerScaleSetSessionExpiredException') || error.status === 404 || error.status === 401));

/**
 * The pool's lease: free, run out, or ours. Held by a listener that named its hand-over soon: wait for it (the
 * scheduled invocations come a minute apart, so the one before the hand-over takes over on time). The state its last
 * holder left, when taken.
 */
async function takeLease(pool: string, ports: ListenerPorts, stopAt: number): Promise<ListenerState | undefined> {
  const { lease, limits, holder } = ports;
  const waitUntil = ports.nowMs() + limits.handoverWaitMs;
  for (;;) {
    const now = ports.nowMs();
    const attempt = await lease.acquire(pool, holder, now, now + limits.leaseMs, stopAt);
    if (attempt.acquired) return attempt.state;
    // A live holder renews its lease: only a named hand-over is worth waiting for (a dead holder's lease runs out,
    // and the next invocation takes it).
    const due = attempt.held.handoverAt ?? Number.POSITIVE_INFINITY;
    if (due > waitUntil || due > stopAt - limits.renewEveryMs) return undefined;
    await ports.sleep(Math.max(250, Math.min(due - now + 100, 2_000)));
  }
}
