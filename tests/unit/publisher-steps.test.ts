import { describe, expect, it } from '@jest/globals';
import { DEFAULT_ROUND_LIMITS, idleRunners, launchQueued, surplusSpares, tearDownFinished, tendWarmSlots, type PublisherPorts } from '@runners/publisher';
import { STATE_RANK, warmJobId, type Pool, type TeardownMessage } from '@runners/shared';
import { MemoryDispatchBus, MemoryDispatchStore } from '../helpers/memory-dispatch';
import { testPoolsConfig } from '../helpers/pools';

/*
 * The publisher's steps one by one, on its ports in memory (the dispatch integration tests run them on moto): the
 * finished jobs, the pool's idle runners (warm and spare), the launch step, the warm slots.
 */

const config = testPoolsConfig();
const pool = config.pools[0]!; // docker-linux, maxRunners 4
const name = (jobId: number, attempt = 1) => `gha-${pool.name}-${jobId}-${attempt}`;
const T0 = Date.UTC(2030, 0, 1, 12);
const at = (ms: number) => new Date(T0 + ms).toISOString();

function setup(nowMs = 60_000) {
  const store = new MemoryDispatchStore();
  const bus = new MemoryDispatchBus();
  const ports: PublisherPorts = { config, store, bus, now: () => new Date(T0 + nowMs), traceHeader: () => undefined, limits: DEFAULT_ROUND_LIMITS };
  return { store, bus, ports };
}

const pools = new Map(config.pools.map((p) => [p.name, p] as const));

/** A job dispatched to its own runner, which holds the slot. */
const dispatchedJob = (jobId: number, extra: Record<string, unknown> = {}) => ({
  jobId,
  state: 'dispatched' as const,
  stateRank: STATE_RANK.dispatched,
  slotPool: pool.name,
  launchedRunner: name(jobId),
  launchedRunnerId: jobId + 100,
  dispatchedAt: at(0),
  updatedAt: at(0),
  ...extra,
});
/** A job that completed on `ranOn`, in the finished index. */
const completedJob = (jobId: number, ranOn: string | undefined, extra: Record<string, unknown> = {}) => ({
  jobId,
  state: 'completed' as const,
  stateRank: STATE_RANK.completed,
  finishedKey: pool.name,
  runnerName: ranOn,
  runnerId: ranOn ? 555 : undefined,
  conclusion: 'success',
  updatedAt: at(0),
  ...extra,
});
const queuedJob = (jobId: number, queuedAtMs: number) => ({
  jobId,
  state: 'queued' as const,
  stateRank: STATE_RANK.queued,
  queueKey: pool.name,
  queueSortKey: `${at(queuedAtMs)}#${jobId}`,
  updatedAt: at(queuedAtMs),
});
const teardowns = (bus: MemoryDispatchBus) => bus.published.filter((m): m is TeardownMessage => m.action === 'teardown');

describe('finished jobs', () => {
  it('frees the slot of a job that ran on its own runner in one write, and tears its host down', async () => {
    // Prepare
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(1), ...completedJob(1, name(1)) });

    // Act
    const round = await tearDownFinished(pool, ports, pools);

    // Assess
    expect(store.writes).toEqual(['releaseFinished 1']);
    expect(teardowns(bus)).toEqual([expect.objectContaining({ runnerName: name(1), reason: 'finished', onlyIfIdle: false, jobId: 1 })]);
    expect(round).toMatchObject({ teardowns: 1, slotsReleased: 1 });
    expect(store.get(1)?.slotPool).toBeUndefined();
    expect(store.get(1)?.finishedKey).toBeUndefined();
  });

  it('job stealing: the job whose runner ran it goes back to the queue; the stolen job keeps its own runner as a spare', async () => {
    // Prepare: job 2's runner ran job 1; job 2 still waits; job 1's own runner took nothing
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(1), ...completedJob(1, name(2)) });
    store.put(dispatchedJob(2));

    // Act
    await tearDownFinished(pool, ports, pools);

    // Assess: runner 2 torn down (finished), job 2 requeued, runner 1 kept (no teardown, slot held)
    expect(teardowns(bus).map((m) => m.runnerName)).toEqual([name(2)]);
    expect(store.get(2)).toMatchObject({ state: 'queued', queueKey: pool.name });
    expect(store.get(2)?.slotPool).toBeUndefined();
    expect(store.get(1)).toMatchObject({ slotPool: pool.name, launchedRunner: name(1) });
    expect(store.get(1)?.finishedKey).toBeUndefined();
    expect(idleRunners(await store.slots(pool.name)).spares.map((s) => s.runnerName)).toEqual([name(1)]);
  });

  it('job stealing both ways: a job already started elsewhere is only released, and a busy runner is never a spare', async () => {
    // Prepare: job 1 ran on runner 2; job 2 runs on runner 1 (its in_progress marked runner 1 busy)
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(1), ...completedJob(1, name(2)), busyWith: 2 });
    store.put({ ...dispatchedJob(2), state: 'in_progress', stateRank: STATE_RANK.in_progress, runnerName: name(1) });

    // Act
    await tearDownFinished(pool, ports, pools);

    // Assess
    expect(teardowns(bus).map((m) => m.runnerName)).toEqual([name(2)]);
    expect(store.get(2)?.state).toBe('in_progress');
    expect(store.get(2)?.slotPool).toBeUndefined();
    expect(store.get(1)).toMatchObject({ slotPool: pool.name });
    expect(idleRunners(await store.slots(pool.name)).spares).toEqual([]);
  });

  it('removes the registration of the runner of a failed job (its host may have died), with the id GitHub gave', async () => {
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(3), ...completedJob(3, name(3), { conclusion: 'failure' }) });

    await tearDownFinished(pool, ports, pools);

    expect(teardowns(bus)).toEqual([
      expect.objectContaining({ reason: 'job-failed', registration: { owner: 'octo-org', repo: 'app', installationId: 7, runnerId: 555 } }),
    ]);
  });

  it('keeps a job in the finished index while its teardown could not be published', async () => {
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(4), ...completedJob(4, name(4)) });
    bus.failing = () => true;

    await tearDownFinished(pool, ports, pools);

    expect(store.writes).toEqual([]);
    expect(store.get(4)).toMatchObject({ finishedKey: pool.name, slotPool: pool.name });
  });

  it('a job cancelled before any runner took it leaves its runner as a spare, not torn down at once', async () => {
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(5), ...completedJob(5, undefined, { conclusion: 'cancelled' }) });

    await tearDownFinished(pool, ports, pools);

    expect(bus.published).toEqual([]);
    expect(store.writes).toEqual(['clearFinished 5']);
    expect(idleRunners(await store.slots(pool.name)).spares.map((s) => s.jobId)).toEqual([5]);
  });
});

describe('idle runners', () => {
  it('counts idle warm runners and spares; not runners busy with a job or waiting for their own', async () => {
    const { store } = setup();
    store.put(dispatchedJob(1)); // its own job waits for it
    store.put({ ...dispatchedJob(2), state: 'in_progress', runnerName: name(2) }); // runs its own job
    store.put({ ...dispatchedJob(3), state: 'in_progress', runnerName: name(9) }); // its job ran elsewhere: spare
    store.put({ ...dispatchedJob(4), state: 'completed', runnerName: name(8), busyWith: 8 }); // spent on job 8
    store.put({ ...dispatchedJob(warmJobId(pool.name, 1)), launchedRunner: `gha-${pool.name}-w1-1` }); // warm, idle
    store.put({ ...dispatchedJob(warmJobId(pool.name, 2)), launchedRunner: `gha-${pool.name}-w2-1`, busyWith: 7 }); // warm, took job 7

    const idle = idleRunners(await store.slots(pool.name));

    expect(idle.warm).toBe(1);
    expect(idle.spares.map((s) => s.jobId)).toEqual([3]);
  });

  it('retires only the spares no queued job needs, once they have been spare longer than the grace', async () => {
    const { store } = setup();
    store.put({ ...dispatchedJob(1), state: 'completed', runnerName: undefined, updatedAt: at(0) });
    store.put({ ...dispatchedJob(2), state: 'completed', runnerName: undefined, updatedAt: at(50_000) });
    const { spares } = idleRunners(await store.slots(pool.name));

    expect(surplusSpares(spares, 2, T0 + 60_000, 20_000)).toEqual([]);
    expect(surplusSpares(spares, 0, T0 + 60_000, 20_000).map((s) => s.jobId)).toEqual([1]);
    expect(surplusSpares(spares, 0, T0 + 80_000, 20_000).map((s) => s.jobId)).toEqual([1, 2]);
  });
});

describe('launch step', () => {
  it('leaves a job just requeued to a spare runner instead of launching a runner that could only end idle', async () => {
    // Prepare: a spare (job 1 ran elsewhere), job 2 requeued 5 s ago
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(1), state: 'completed', runnerName: name(9), updatedAt: at(55_000) });
    store.put(queuedJob(2, 55_000));

    // Act
    const round = await launchQueued(pool, ports);

    // Assess
    expect(round).toMatchObject({ launched: 0, leftToIdle: 1, sparesRetired: 0 });
    expect(bus.published).toEqual([]);
  });

  it('launches a job the spare did not take within the grace, and retires a spare no job needs', async () => {
    const { store, bus, ports } = setup();
    store.put({ ...dispatchedJob(1), state: 'completed', runnerName: name(9), updatedAt: at(0) });
    store.put(queuedJob(2, 0));

    const round = await launchQueued(pool, ports);

    expect(round).toMatchObject({ launched: 1, leftToIdle: 0, sparesRetired: 0 });
    expect(bus.published.map((m) => [m.action, m.runnerName])).toEqual([['launch', name(2)]]);

    // The queue empty now: the spare is surplus, retired only if GitHub says it is idle
    const next = await launchQueued(pool, { ...ports, now: () => new Date(T0 + 61_000) });
    expect(next).toMatchObject({ sparesRetired: 1 });
    expect(teardowns(bus)).toEqual([
      expect.objectContaining({ runnerName: name(1), onlyIfIdle: true, reason: 'job-ran-elsewhere', registration: expect.objectContaining({ runnerId: 101 }) }),
    ]);
  });

  it('never launches more than the pool has room for, counting spares as runners in flight', async () => {
    const { store, bus, ports } = setup();
    for (const id of [1, 2, 3]) store.put(dispatchedJob(id));
    store.put({ ...dispatchedJob(4), state: 'completed', runnerName: name(9), updatedAt: at(0) });
    for (const id of [10, 11]) store.put(queuedJob(id, 0));

    const round = await launchQueued(pool, ports);

    expect(round).toMatchObject({ launched: 0, inFlight: 4, available: 0 });
    expect(bus.published.filter((m) => m.action === 'launch')).toEqual([]);
  });
});

describe('warm slots', () => {
  const warmPool: Pool = { ...pool, warm: { owner: 'octo-org', minIdle: 2, idleTimeoutMinutes: 10, windows: [] } } as Pool;

  it('opens warm slots up to minIdle, counting the idle warm runners it has', async () => {
    const { store, ports } = setup();
    store.put({ ...dispatchedJob(warmJobId(pool.name, 1)), launchedRunner: `gha-${pool.name}-w1-1` });

    const round = await tendWarmSlots(warmPool, [], await store.slots(pool.name), ports);

    expect(round).toMatchObject({ idle: 1, opened: 1 });
    expect(store.writes).toEqual([`openWarmSlot ${warmJobId(pool.name, 2)}`]);
  });

  it('closes queued warm slots beyond what is wanted', async () => {
    const { store, ports } = setup();
    for (const slot of [1, 2, 3]) store.put({ ...queuedJob(warmJobId(pool.name, slot), 0), queueSortKey: `~warm#${slot}` });
    const queued = (await store.queuedJobs(pool.name, 10)).filter((j) => j.jobId >= warmJobId(pool.name, 1));

    const round = await tendWarmSlots(warmPool, queued, [], ports);

    expect(round.queued.map((j) => j.jobId)).toEqual([warmJobId(pool.name, 1), warmJobId(pool.name, 2)]);
    expect(store.get(warmJobId(pool.name, 3))).toBeUndefined();
  });
});
