import pMap from 'p-map';
import {
  isWarmJobId,
  parseRunnerName,
  poolCapacity,
  recordLaunches,
  runnerName,
  selectFairly,
  unconfirmedLaunches,
  type LaunchMessage,
  type Pool,
  type QueuedJob,
} from '@runners/shared';
import { idleRunners, retireSpare, surplusSpares } from './idle-runners';
import { targetOf, type PublisherPorts } from './publish-round';
import { tendWarmSlots } from './warm-slots';

/*
 * The launch step of a pool's round: capacity (in-flight cap from the slots index and the launch log, launch-rate
 * cap), the queued jobs the pool's idle runners will take, fair share across repositories for the rest, dispatch
 * (a conditional write each), launch messages.
 */

/** Conditional dispatch writes in flight at once. */
const DISPATCH_CONCURRENCY = 10;

export interface LaunchRound {
  readonly launched: number;
  readonly inFlight: number;
  readonly available: number;
  readonly queued: number;
  /** Seconds from job creation to dispatch, one per launch (for the TimeToDispatch metric). */
  readonly dispatchDelays: readonly number[];
  /** Capacity and queued jobs remained when the round stopped at its own limit, or warm slots were just opened. */
  readonly moreToLaunch: boolean;
  readonly failedPublishes: number;
  /** Queued jobs left to the pool's idle runners (warm or spare) this round. */
  readonly leftToIdle: number;
  /** Spare runners no queued job needed, retired. */
  readonly sparesRetired: number;
}

export async function launchQueued(pool: Pool, ports: PublisherPorts): Promise<LaunchRound | 'conflict'> {
  const { store, limits } = ports;
  const nowMs = ports.now().getTime();
  const slots = await store.slots(pool.name);
  const idle = idleRunners(slots);
  // Full by the index alone, no spare to retire: nothing to launch or retire, the launch log and queue need no read.
  if (slots.length >= pool.maxRunners && idle.spares.length === 0) {
    return {
      launched: 0,
      inFlight: slots.length,
      available: 0,
      dispatchDelays: [],
      failedPublishes: 0,
      leftToIdle: 0,
      sparesRetired: 0,
      queued: 0,
      moreToLaunch: false,
    };
  }
  const log = await store.launchLog(pool.name);
  const indexed = new Map(slots.map((slot) => [slot.runnerName, slot.repository]));
  const poolNames = new Set(ports.config.pools.map((p) => p.name));
  // Launches the log has that the index does not show yet (a GSI is eventually consistent): asked of the table.
  const unconfirmed = unconfirmedLaunches(log, indexed, nowMs).flatMap((name) => {
    const identity = parseRunnerName(name, ports.config.runnerNamePrefix, poolNames);
    return identity ? [{ jobId: identity.jobId, runnerName: name }] : [];
  });
  const confirmed = unconfirmed.length > 0 ? await store.slotsHeld(unconfirmed) : new Map<string, string>();
  const inFlightByRepository = new Map<string, number>();
  for (const repository of [...indexed.values(), ...confirmed.values()]) inFlightByRepository.set(repository, (inFlightByRepository.get(repository) ?? 0) + 1);
  const capacity = poolCapacity(pool, indexed.size + confirmed.size, log, nowMs);
  const nothing = {
    launched: 0,
    inFlight: capacity.inFlight,
    available: capacity.available,
    dispatchDelays: [],
    failedPublishes: 0,
    leftToIdle: 0,
    sparesRetired: 0,
  };
  // Full and no spare to retire: the queue need not be read.
  if (capacity.available === 0 && idle.spares.length === 0) return { ...nothing, queued: 0, moreToLaunch: false };

  const all = await store.queuedJobs(pool.name, limits.queueWindow);
  const jobs = all.filter((job) => !isWarmJobId(job.jobId));
  // A job whose launch failed waits out its back-off (the tick brings it back); a warm slot doing so still counts.
  const ready = (job: QueuedJob) => (job.notBefore ?? 0) <= nowMs;
  const queued = jobs.filter(ready);
  // Warm slots are tended only while the pool has room for them.
  const warm =
    capacity.available > 0
      ? await tendWarmSlots(
          pool,
          all.filter((job) => isWarmJobId(job.jobId)),
          slots,
          ports,
        )
      : { idle: idle.warm, queued: [], opened: 0 };

  const retire = surplusSpares(idle.spares, jobs.length, nowMs, limits.idleGraceMs);
  const { failed: unretired } =
    retire.length > 0 ? await ports.bus.publishHostMessages(retire.map((spare) => retireSpare(pool, spare, ports.traceHeader()))) : { failed: [] };
  const sparesRetired = retire.length - unretired.length;

  // Idle runners take the youngest jobs' places: GitHub hands each of them a job within seconds. A job (re)queued
  // longer ago than the grace is launched anyway (its idle runner may be gone, or took another job).
  const idleCount = warm.idle + idle.spares.length - retire.length;
  const young = (job: QueuedJob) => nowMs - Date.parse(job.queuedAt > job.seenAt ? job.queuedAt : job.seenAt) < limits.idleGraceMs;
  const leftToIdle = new Set(
    queued
      .filter(young)
      .slice(0, Math.max(0, idleCount))
      .map((job) => job.jobId),
  );
  if (capacity.available === 0) return { ...nothing, sparesRetired, leftToIdle: leftToIdle.size, queued: queued.length, moreToLaunch: false };
  const budget = Math.min(capacity.available, limits.launchesPerRound);
  const chosen = selectFairly(
    queued.filter((job) => !leftToIdle.has(job.jobId)).map((job) => ({ ...job, repository: `${job.owner}/${job.repo}` })),
    budget,
    inFlightByRepository,
  );
  // Warm slots get what the pool's jobs leave.
  chosen.push(
    ...warm.queued
      .filter(ready)
      .slice(0, budget - chosen.length)
      .map((job) => ({ ...job, repository: `${job.owner}/${job.repo}` })),
  );
  if (chosen.length === 0) return { ...nothing, sparesRetired, leftToIdle: leftToIdle.size, queued: 0, moreToLaunch: warm.opened > 0 };

  const names = chosen.map((job) => runnerName(ports.config.runnerNamePrefix, { pool: pool.name, jobId: job.jobId, attempt: job.nextAttempt }));
  // Spend the capacity first (optimistic lock on the pool's launch log), then dispatch.
  if (!(await store.saveLaunchLog(pool.name, recordLaunches(log, names, nowMs)))) return 'conflict';

  const at = new Date(nowMs);
  const traced = ports.traceJob ?? ((_stage, _job, work) => work());
  // Independent conditional writes: a few at a time, results in the chosen order.
  const dispatched = await pMap(
    chosen,
    async (job, i) => {
      const dispatch = { pool: pool.name, runnerName: names[i]!, attempt: job.nextAttempt, at };
      const marked = await traced('dispatch', { jobId: job.jobId, pool: pool.name, runnerName: dispatch.runnerName, traceHeader: job.traceHeader }, () =>
        store.markDispatched(job.jobId, dispatch),
      );
      return marked ? { job, dispatch } : undefined; // else: taken, started or cancelled
    },
    { concurrency: DISPATCH_CONCURRENCY },
  );
  const launches = dispatched.flatMap((d) => (d ? [{ job: d.job, message: launchMessage(pool, d.job, d.dispatch.runnerName, at, ports) }] : []));
  const { failed } = await ports.bus.publishHostMessages(launches.map((l) => l.message));
  for (const message of failed) {
    // Never leave a job dispatched with no launch message on its way: back to the queue, slot freed.
    await store.requeue(message.jobId, { pool: pool.name, runnerName: message.runnerName, attempt: message.launchAttempt, at });
  }
  const sent = launches.filter((l) => !failed.includes(l.message));
  return {
    launched: sent.length,
    inFlight: capacity.inFlight + sent.length,
    available: capacity.available - sent.length,
    queued: queued.length,
    dispatchDelays: sent.map((l) => Math.max(0, (nowMs - Date.parse(l.job.createdAt)) / 1000)),
    moreToLaunch: warm.opened > 0 || (chosen.length === limits.launchesPerRound && capacity.available > chosen.length && queued.length > chosen.length),
    failedPublishes: failed.length,
    leftToIdle: leftToIdle.size,
    sparesRetired,
  };
}

function launchMessage(pool: Pool, job: QueuedJob & { repository: string }, name: string, at: Date, ports: PublisherPorts): LaunchMessage {
  return {
    ...targetOf(pool),
    action: 'launch',
    runnerName: name,
    jobId: job.jobId,
    launchAttempt: job.nextAttempt,
    owner: job.owner,
    repo: job.repo,
    installationId: job.installationId,
    labels: [...job.labels],
    dispatchedAt: at.toISOString(),
    queuedAt: new Date(Date.parse(job.createdAt)).toISOString(),
    // The job's trace goes on to the orchestrator and the host.
    traceHeader: job.traceHeader ?? ports.traceHeader(),
  };
}
