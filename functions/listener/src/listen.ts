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
  MAX_JOB_MESSAGES,
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

export type ListenerLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

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
  /** `failed`: an error past the retries ended it early; it handed over (session ended, lease released). */
  readonly outcome: 'listened' | 'held-by-another' | 'lease-lost' | 'failed';
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
  // One pool's failure ends neither the others' listening nor the invocation before they hand over.
  return Promise.all(
    scaleSetPools(ports.config.pools).map((pool) =>
      listenOnPool(pool, ports, endsAt).catch((error: unknown): ListenReport => {
        ports.logger.error('listener failed before listening', { pool: pool.name, error: String(error) });
        return { ...emptyReport(pool.name), outcome: 'failed' };
      }),
    ),
  );
}

type Counters = { -readonly [K in keyof ListenReport]: ListenReport[K] };

const emptyReport = (pool: string): Counters => ({
  pool,
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
});

async function listenOnPool(pool: Pool, ports: ListenerPorts, endsAt: number): Promise<ListenReport> {
  const { lease, limits, holder, logger } = ports;
  const report: Counters = emptyReport(pool.name);
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
  // Withdrawals are closed only once the queue was read to its end (a reassignment may wait in a backlog).
  let drained = false;
  const state = (): ListenerState => ({
    scaleSetId,
    ...(session ? { sessionId: session.sessionId } : {}),
    withdrawals: Object.fromEntries([...withdrawals].map(([id, at]) => [String(id), at])),
  });

  // The lease is renewed beside the long poll; losing it aborts the poll at once.
  const lost = new AbortController();
  let renewing = Promise.resolve();
  let renewedAt = ports.nowMs();
  // Renews the lease and saves the state. A renewal that fails (throttled, a 5xx past the SDK's retries) is tried
  // again at the next tick; once most of the lease has gone without one, another listener may take the pool: stop.
  const renewLease = async () => {
    if (lost.signal.aborted) return;
    try {
      if (await lease.renew(pool.name, holder, ports.nowMs() + limits.leaseMs, state())) renewedAt = ports.nowMs();
      else lost.abort();
    } catch (error) {
      logger.warn('lease not renewed; trying again', { pool: pool.name, error: String(error) });
      if (ports.nowMs() - renewedAt > limits.leaseMs - limits.renewEveryMs) lost.abort();
    }
  };
  const renewal = setInterval(() => {
    renewing = renewing.then(renewLease);
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
        // A new session may begin with a backlog (messages queued while no one listened): not drained yet.
        drained = false;
        ports.onStatistics?.(pool.name, session.statistics);
        await renewLease();
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
          } else if (!(error instanceof ScaleSetApiError && error.is('RunnerScaleSetSessionExpiredException'))) {
            // Refused, but perhaps still there: ended, or it would refuse our next session as a conflict.
            await service.deleteSession(scaleSetId, session.sessionId).catch(() => undefined);
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
      // The queue is read to its end when a poll came back empty or with less than a full message.
      if (!message || message.jobMessages.length + message.unknownJobMessages + message.invalidJobMessages.length < MAX_JOB_MESSAGES) drained = true;
      if (drained) await closeWithdrawals();
    }
  } catch (error) {
    // Anything else (the Jobs table or the service failing past their retries): stop, end the session and hand the
    // lease over at once, so the next invocation starts clean instead of waiting the lease out.
    logger.error('listener failed; handing over', { pool: pool.name, error: String(error) });
    report.outcome = 'failed';
  } finally {
    clearInterval(renewal);
    await renewing;
  }
  // Ours to end in every case: a successor that already deleted it makes this a no-op.
  if (session) {
    const closing = session;
    if (
      await closing.close().then(
        () => true,
        (error: unknown) => (logger.warn('session not deleted', { pool: pool.name, error: String(error) }), false),
      )
    )
      session = undefined;
  }
  if (lost.signal.aborted) {
    logger.warn('lease lost: stopped listening', { pool: pool.name });
    return { ...report, outcome: 'lease-lost' };
  }
  // A session that could not be deleted stays named in the state: the next holder ends it.
  await lease.release(pool.name, holder, state()).catch((error: unknown) => logger.warn('lease not released', { pool: pool.name, error: String(error) }));
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
    let followed = false;
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
        if (await ports.intake.store.recordWithdrawal(intake.jobId, intake.assignedAtMs, at)) report.withdrawn++;
        // Followed even when the write changed nothing: a withdrawal seen again (its message redelivered after a
        // crash) is already recorded, at or before now; closing it is conditional on that and on no new assignment.
        if (!withdrawals.has(intake.jobId)) {
          withdrawals.set(intake.jobId, at);
          followed = true;
        }
      } else if (intake.kind === 'skip') logger.warn('job message skipped', { pool: pool.name, reason: intake.reason });
    }
    for (const invalid of message.invalidJobMessages)
      logger.error('job message not understood; skipped', { pool: pool.name, messageId: message.messageId, invalid });
    // The withdrawals followed are in the lease's state before the message goes: a successor closes them.
    if (followed) await renewLease();
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
    if (due > waitUntil || due > stopAt - limits.renewEveryMs || now > waitUntil) return undefined;
    // Overdue (its holder is still closing): tried again each second, not in a tight loop.
    await ports.sleep(Math.max(1_000, Math.min(due - now + 100, 2_000)));
  }
}
