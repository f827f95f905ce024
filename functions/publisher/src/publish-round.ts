import pMap from 'p-map';
import { isWarmJobId, parseRunnerName, wantedIdle, warmJobId, warmSlotOf, poolCapacity, recordLaunches, unconfirmedLaunches, runnerName, selectFairly, type DispatchBus, type DispatchStore, type LaunchMessage, type Pool, type PoolsConfig, type QueuedJob, type RunnerIdentity, type TeardownMessage } from '@runners/shared';
import { type JobAnnotations } from '@runners/shared/tracing';

/*
 * One publisher round. For each pool asked about: deal with finished jobs first (teardown messages, slots freed),
 * then launch as many queued jobs as the pool's limits allow, fairly across repositories. Every step is a conditional
 * write or idempotent, so a round that crashes anywhere can simply run again.
 */

export interface RoundLimits {
  /** Launches per pool per round; past it the publisher re-notifies itself instead of running long. */
  readonly launchesPerRound: number;
  /** How many of a pool's oldest queued jobs fair sharing looks at. */
  readonly queueWindow: number;
  readonly finishedPerRound: number;
  /** Retries of a pool whose launch log another publisher changed meanwhile. */
  readonly conflictRetries: number;
  /**
   * A job younger than this, in a pool with idle warm runners, is left to them (GitHub gives it to one in seconds)
   * instead of launching a runner of its own; past it, it is launched like any job.
   */
  readonly warmGraceMs: number;
  /** A warm slot whose launches failed is opened again only after this long. */
  readonly warmFailureCooldownMs: number;
}

/** Conditional dispatch writes in flight at once. */
const DISPATCH_CONCURRENCY = 10;

export const DEFAULT_ROUND_LIMITS: RoundLimits = {
  launchesPerRound: 100,
  queueWindow: 1_000,
  finishedPerRound: 500,
  conflictRetries: 3,
  warmGraceMs: 20_000,
  warmFailureCooldownMs: 10 * 60_000,
};

export interface PublisherPorts {
  readonly config: PoolsConfig;
  readonly store: DispatchStore;
  readonly bus: DispatchBus;
  readonly now: () => Date;
  readonly traceHeader: () => string | undefined;
  readonly limits: RoundLimits;
  /** Runs one job's step as a stage of its trace (tracing/job-segment.ts); by default just runs it. */
  readonly traceJob?: <T>(stage: string, job: JobAnnotations, work: () => Promise<T>) => Promise<T>;
}

export interface PoolRound {
  readonly pool: string;
  readonly launched: number;
  readonly teardowns: number;
  readonly slotsReleased: number;
  readonly inFlight: number;
  readonly available: number;
  readonly queued: number;
  /** Seconds from job creation to dispatch, one per launch (for the TimeToDispatch metric). */
  readonly dispatchDelays: readonly number[];
  /** Capacity and queued jobs remained when the round stopped at its own limit, or warm slots were just opened. */
  readonly moreToLaunch: boolean;
  readonly failedPublishes: number;
  /** Jobs left to the pool's idle warm runners this round. */
  readonly leftToWarm: number;
}

export interface RoundResult {
  readonly pools: readonly PoolRound[];
  readonly renotified: readonly string[];
}

const hostOf = (pool: Pool) => ({ pool: pool.name, host: pool.host, os: pool.os });

/** `pools`: names to work on; undefined = every pool (the scheduled tick). Unknown names are skipped. */
export async function publishRound(pools: readonly string[] | undefined, ports: PublisherPorts): Promise<RoundResult> {
  const byName = new Map(ports.config.pools.map((p) => [p.name, p]));
  const targets = pools === undefined ? ports.config.pools : [...new Set(pools)].flatMap((name) => byName.get(name) ?? []);
  const results: PoolRound[] = [];
  const renotify = new Set<string>();
  const pending = new Set(targets.map((p) => p.name));
  for (const pool of targets) {
    pending.delete(pool.name);
    const { round, freedPools } = await poolRound(pool, ports, byName);
    results.push(round);
    if (round.moreToLaunch) renotify.add(pool.name);
    // A runner of another pool ran one of this pool's jobs (job stealing across pools): that pool has a free slot,
    // and needs a round of its own unless it still has one coming in this invocation.
    for (const name of freedPools) if (!pending.has(name)) renotify.add(name);
  }
  const renotified = [...renotify];
  if (renotified.length > 0) {
    await ports.bus.notifyPublisher({ kind: 'pools-changed', pools: renotified, reasons: { 'publisher-batch-limit': renotified.length }, traceHeader: ports.traceHeader() });
  }
  return { pools: results, renotified };
}

async function poolRound(pool: Pool, ports: PublisherPorts, pools: ReadonlyMap<string, Pool>): Promise<{ round: PoolRound; freedPools: string[] }> {
  const { freedPools, ...finished } = await tearDownFinished(pool, ports, pools);
  for (let attempt = 0; ; attempt++) {
    const launch = await launchQueued(pool, ports);
    if (launch !== 'conflict') return { round: { pool: pool.name, ...finished, ...launch }, freedPools };
    // Another publisher spent this pool's capacity first: recompute from what it wrote.
    if (attempt >= ports.limits.conflictRetries) {
      const gaveUp = { launched: 0, inFlight: -1, available: 0, queued: 0, dispatchDelays: [], moreToLaunch: false, failedPublishes: 0, leftToWarm: 0 };
      return { round: { pool: pool.name, ...finished, ...gaveUp }, freedPools };
    }
  }
}

/**
 * For each completed job: tear down the runner that ran it (ours only), freeing its slot — with job stealing that
 * runner may have been launched for another job, which then lost its runner and goes back to the queue; and tear
 * down the runner launched for this job if another runner ran it (or nobody did: cancelled while queued), but only if
 * that runner is idle — if it took yet another job, that job's completion frees it.
 */
async function tearDownFinished(pool: Pool, ports: PublisherPorts, pools: ReadonlyMap<string, Pool>) {
  const { store, config } = ports;
  const finished = await store.finishedJobs(pool.name, ports.limits.finishedPerRound);
  const poolNames = new Set(pools.keys());
  const steps: { message: TeardownMessage; finishedJob: number; release?: RunnerIdentity }[] = [];

  for (const job of finished) {
    const ran = job.runnerName ? parseRunnerName(job.runnerName, config.runnerNamePrefix, poolNames) : undefined;
    if (ran && job.runnerName) {
      const holds = ran.jobId === job.jobId ? job.holdsSlot && job.launchedRunner === job.runnerName : await store.holdsSlot(ran.jobId, job.runnerName);
      if (holds) {
        steps.push({
          message: { ...hostOf(pools.get(ran.pool)!), action: 'teardown', runnerName: job.runnerName, reason: job.conclusion === 'failure' ? 'job-failed' : 'finished', onlyIfIdle: false, jobId: ran.jobId, finishedJobId: job.jobId, traceHeader: job.traceHeader ?? ports.traceHeader() },
          finishedJob: job.jobId,
          release: ran,
        });
      }
    }
    if (job.launchedRunner && job.holdsSlot && job.launchedRunner !== job.runnerName) {
      steps.push({
        message: {
          ...hostOf(pool),
          action: 'teardown',
          runnerName: job.launchedRunner,
          reason: job.runnerName ? 'job-ran-elsewhere' : 'job-cancelled',
          onlyIfIdle: true,
          jobId: job.jobId,
          traceHeader: job.traceHeader ?? ports.traceHeader(),
        },
        finishedJob: job.jobId,
      });
    }
  }

  const { failed } = await ports.bus.publishHostMessages(steps.map((step) => step.message));
  const unpublished = new Set(failed);
  const retryLater = new Set(steps.filter((step) => unpublished.has(step.message)).map((step) => step.finishedJob));
  let slotsReleased = 0;
  const freedPools = new Set<string>();
  // Published before released: a crash in between re-sends an idempotent teardown, never loses one.
  for (const step of steps) {
    if (unpublished.has(step.message) || !step.release) continue;
    const { runnerName } = step.message;
    if (!(await store.releaseSlot(step.release.jobId, runnerName, 'publisher', ports.now()))) continue;
    slotsReleased++;
    if (step.release.pool !== pool.name) freedPools.add(step.release.pool);
    // The job this runner was launched for lost it to another job: back to the queue, unless it started meanwhile.
    if (step.release.jobId !== step.finishedJob) {
      const at = new Date(ports.now());
      if (await store.requeue(step.release.jobId, { pool: step.release.pool, runnerName, attempt: step.release.attempt, at })) freedPools.add(step.release.pool);
    }
  }
  // A job stays in the finished index (next round retries it) while one of its teardowns is unpublished.
  for (const job of finished) if (!retryLater.has(job.jobId)) await store.clearFinished(job.jobId);
  return { teardowns: steps.length - unpublished.size, slotsReleased, freedPools: [...freedPools] };
}

async function launchQueued(pool: Pool, ports: PublisherPorts) {
  const { store } = ports;
  const nowMs = ports.now().getTime();
  const [indexed, log] = await Promise.all([store.slotRunners(pool.name), store.launchLog(pool.name)]);
  const poolNames = new Set(ports.config.pools.map((p) => p.name));
  const unconfirmed = unconfirmedLaunches(log, indexed, nowMs).flatMap((name) => {
    const identity = parseRunnerName(name, ports.config.runnerNamePrefix, poolNames);
    return identity ? [{ jobId: identity.jobId, runnerName: name }] : [];
  });
  const confirmed = unconfirmed.length > 0 ? await store.slotsHeld(unconfirmed) : new Map<string, string>();
  const inFlightByRepository = new Map<string, number>();
  for (const repository of [...indexed.values(), ...confirmed.values()]) {
    inFlightByRepository.set(repository, (inFlightByRepository.get(repository) ?? 0) + 1);
  }
  const capacity = poolCapacity(pool, indexed.size + confirmed.size, log, nowMs);
  const idle = { launched: 0, inFlight: capacity.inFlight, available: capacity.available, dispatchDelays: [], failedPublishes: 0, leftToWarm: 0 };
  if (capacity.available === 0) return { ...idle, queued: 0, moreToLaunch: false };

  const all = await store.queuedJobs(pool.name, ports.limits.queueWindow);
  // A job whose launch failed waits out its back-off (the tick brings it back); a warm slot doing so still counts.
  const ready = (job: QueuedJob) => (job.notBefore ?? 0) <= nowMs;
  const queued = all.filter((job) => !isWarmJobId(job.jobId) && ready(job));
  const warm = await tendWarmSlots(pool, all.filter((job) => isWarmJobId(job.jobId)), ports);
  // Idle warm runners take the youngest jobs' places: GitHub hands each of them a job within seconds.
  const leftToWarm = new Set(queued.filter((job) => nowMs - Date.parse(job.seenAt) < ports.limits.warmGraceMs).slice(0, warm.idle).map((job) => job.jobId));
  const budget = Math.min(capacity.available, ports.limits.launchesPerRound);
  const chosen = selectFairly(
    queued.filter((job) => !leftToWarm.has(job.jobId)).map((job) => ({ ...job, repository: `${job.owner}/${job.repo}` })),
    budget,
    inFlightByRepository,
  );
  // Warm slots get what the pool's jobs leave.
  chosen.push(...warm.queued.filter(ready).slice(0, budget - chosen.length).map((job) => ({ ...job, repository: `${job.owner}/${job.repo}` })));
  if (chosen.length === 0) return { ...idle, leftToWarm: leftToWarm.size, queued: 0, moreToLaunch: warm.opened > 0 };

  const names = chosen.map((job) => runnerName(ports.config.runnerNamePrefix, { pool: pool.name, jobId: job.jobId, attempt: job.nextAttempt }));
  // Spend the capacity first (optimistic lock on the pool's launch log), then dispatch.
  if (!(await store.saveLaunchLog(pool.name, recordLaunches(log, names, nowMs)))) return 'conflict' as const;

  const at = new Date(nowMs);
  // Independent conditional writes: a few at a time, results in the chosen order.
  const dispatched = await pMap(
    chosen,
    async (job, i) => {
      const dispatch = { pool: pool.name, runnerName: names[i]!, attempt: job.nextAttempt, at };
      const traced = ports.traceJob ?? ((_stage, _job, work) => work());
      const marked = await traced('dispatch', { jobId: job.jobId, pool: pool.name, runnerName: dispatch.runnerName, traceHeader: job.traceHeader }, () => store.markDispatched(job.jobId, dispatch));
      return marked ? { job, dispatch } : undefined; // else: taken, started or cancelled
    },
    { concurrency: DISPATCH_CONCURRENCY },
  );
  const launches: { message: LaunchMessage; job: QueuedJob }[] = [];
  for (const { job, dispatch } of dispatched.filter((d) => d !== undefined)) {
    launches.push({
      job,
      message: {
        ...hostOf(pool),
        action: 'launch',
        runnerName: dispatch.runnerName,
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
      },
    });
  }

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
    moreToLaunch: warm.opened > 0 || (chosen.length === ports.limits.launchesPerRound && capacity.available > chosen.length && queued.length > chosen.length),
    failedPublishes: failed.length,
    leftToWarm: leftToWarm.size,
  };
}

/**
 * Keeps the pool's idle warm runners (idle or booting, plus queued warm slots) at what its schedule wants now: opens
 * warm slots when short (launched from the next round, after the pool's jobs), closes queued ones when over. Idle
 * runners beyond it are the reconciler's (after the pool's idle timeout). Also runs for a pool whose warm settings
 * were removed, to close what is left.
 */
async function tendWarmSlots(pool: Pool, queuedSlots: QueuedJob[], ports: PublisherPorts): Promise<{ idle: number; queued: QueuedJob[]; opened: number }> {
  if (!pool.warm && queuedSlots.length === 0) return { idle: 0, queued: [], opened: 0 };
  const { store } = ports;
  const runners = await store.warmRunners(pool.name);
  const idle = runners.filter((r) => r.busyWith === undefined).length;
  const wanted = wantedIdle(pool.warm, ports.now());
  let queued = queuedSlots;
  let opened = 0;
  if (idle + queued.length > wanted) {
    const surplus = [...queued].sort((a, b) => b.jobId - a.jobId).slice(0, idle + queued.length - wanted);
    const closed = new Set<number>();
    for (const slot of surplus) if (await store.closeWarmSlot(slot.jobId)) closed.add(slot.jobId);
    queued = queued.filter((slot) => !closed.has(slot.jobId));
  } else if (idle + queued.length < wanted && pool.warm) {
    const used = new Set([...runners, ...queued].map((r) => warmSlotOf(pool.name, r.jobId)));
    const at = ports.now();
    // At most busy + wanted slots: one whose launches failed (cooling down) is not replaced by the next number, so
    // a pool whose hosts cannot start stays small instead of trying slot after slot.
    const highest = Math.min(pool.maxRunners, runners.length - idle + wanted);
    for (let slot = 1; opened < wanted - idle - queued.length && slot <= highest; slot++) {
      if (used.has(slot)) continue;
      const record = { pool: pool.name, jobId: warmJobId(pool.name, slot), owner: pool.warm.owner, repo: pool.warm.repo ?? '', labels: pool.labels };
      if (await store.openWarmSlot(record, at, new Date(at.getTime() - ports.limits.warmFailureCooldownMs))) opened++;
    }
  }
  return { idle, queued, opened };
}

