import { describe, expect, it } from '@jest/globals';
import { warmJobId, type PoolsConfigInput } from '@runners/shared';
import { DynamoDbLaunchStore } from '@runners/shared/dynamodb';
import { getJob } from '../helpers/aws';
import { dispatchHarness, type DispatchHarness } from '../helpers/dispatch-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';

/*
 * Warm pools through the real producer, messenger and publisher on moto: warm slots opened, launched after the pool's
 * jobs, counted against maxRunners, young jobs left to idle warm runners, a warm runner that ran a job replaced, and
 * queued warm slots closed when a schedule window ends.
 */

const POOL = 'docker-linux';
type Warm = NonNullable<Extract<PoolsConfigInput['pools'][number], { host: 'docker' }>['warm']>;

function warmConfig(warm: Warm, maxRunners = 4) {
  const input = testPoolsInput();
  return testPoolsConfig({
    pools: input.pools.map((p) => (p.name === POOL ? { ...p, maxRunners, launchesPerMinute: 1_000, warm } : p)) as PoolsConfigInput['pools'],
  });
}

const launchedNames = (h: DispatchHarness) => h.launches(POOL).map((m) => m.runnerName);
const JOB = { labels: ['docker'], repo: 'octo-org/app' };

describe('warm pools', () => {
  it('keeps minIdle runners idle ahead of jobs within maxRunners; leaves young jobs to them; launches the rest', async () => {
    let clock = Date.now();
    const h = await dispatchHarness({ config: warmConfig({ owner: 'octo-org', minIdle: 2 }, 5), now: () => new Date(clock) });
    const warmRecord = (slot: number) => getJob(h.dynamodb, h.tableName, warmJobId(POOL, slot));

    // Act: the scheduled tick opens two warm slots and launches them
    await h.tick();
    await h.settle();

    // Assess
    expect(launchedNames(h)).toEqual([`gha-${POOL}-w1-1`, `gha-${POOL}-w2-1`]);
    expect(h.launches(POOL)[0]).toMatchObject({ owner: 'octo-org', labels: ['docker'], jobId: warmJobId(POOL, 1) });
    expect(await warmRecord(1)).toMatchObject({ state: 'dispatched', slotPool: POOL, launchedRunner: `gha-${POOL}-w1-1` });
    // In flight: nothing more to launch for them.
    await h.tick();
    await h.settle();
    expect(launchedNames(h)).toHaveLength(2);

    // Act: a job queued while two warm runners are idle is left to them
    await h.deliver('queued', 31_000_001, JOB);
    await h.settle();
    expect(launchedNames(h)).toHaveLength(2);

    // GitHub gives it to w1: the producer notes that w1 is busy, and the next round brings the idle ones back to 2
    await h.deliver('in_progress', 31_000_001, { ...JOB, runnerName: `gha-${POOL}-w1-1` });
    await h.tick();
    await h.settle();
    expect(await warmRecord(1)).toMatchObject({ busyWith: 31_000_001 });
    expect(launchedNames(h)).toEqual([1, 2, 3].map((slot) => `gha-${POOL}-w${slot}-1`));

    // Three jobs, two idle warm runners (w2, w3): two left to them, the third launched (4 of maxRunners 5)
    for (const jobId of [31_000_002, 31_000_003, 31_000_004]) await h.deliver('queued', jobId, JOB);
    await h.settle();
    expect(
      h
        .launches(POOL)
        .slice(3)
        .map((m) => m.jobId),
    ).toEqual([31_000_004]);
    expect(await getJob(h.dynamodb, h.tableName, 31_000_002)).toMatchObject({ state: 'queued' });

    // Past the grace, nobody took them: launched like any job, as far as maxRunners allows
    clock += 60_000;
    await h.tick();
    await h.settle();
    expect(
      h
        .launches(POOL)
        .slice(3)
        .map((m) => m.jobId),
    ).toEqual([31_000_004, 31_000_002]);

    // Act: the job on w1 completes: w1 torn down, its slot back in the queue behind the pool's jobs
    await h.deliver('completed', 31_000_001, { ...JOB, runnerName: `gha-${POOL}-w1-1`, conclusion: 'success' });
    await h.settle();

    // Assess: the freed slot went to the waiting job; w2 and w3 are the two idle runners wanted, so slot 1 is closed
    expect(h.teardowns(POOL)).toEqual([expect.objectContaining({ runnerName: `gha-${POOL}-w1-1`, reason: 'finished' })]);
    expect(h.launches(POOL).at(-1)).toMatchObject({ jobId: 31_000_003 });
    expect(await warmRecord(1)).toBeUndefined();
    expect(new Set(launchedNames(h)).size).toBe(launchedNames(h).length);
    await h.close();
  }, 180_000);

  it('opens warm slots while a schedule window is open and closes the queued ones when it ends', async () => {
    const today = new Date();
    let clock = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 8, 10);
    const warm: Warm = { owner: 'octo-org', minIdle: 0, windows: [{ cron: '0 8 * * *', durationMinutes: 60, minIdle: 3 }] };
    const h = await dispatchHarness({ config: warmConfig(warm), now: () => new Date(clock) });

    // Act: inside the window, one round opens 3 slots (they launch from the next round)
    await h.tick();
    expect((await getJob(h.dynamodb, h.tableName, warmJobId(POOL, 3)))?.state).toBe('queued');
    // The window ends before the next round
    clock += 60 * 60_000;
    await h.settle();

    // Assess: nothing launched, the queued slots gone
    expect(launchedNames(h)).toEqual([]);
    for (const slot of [1, 2, 3]) expect(await getJob(h.dynamodb, h.tableName, warmJobId(POOL, slot))).toBeUndefined();

    // Act: the next day's window opens
    clock += 23 * 60 * 60_000;
    await h.tick();
    await h.settle();
    expect(launchedNames(h)).toEqual([1, 2, 3].map((slot) => `gha-${POOL}-w${slot}-1`));
    await h.close();
  }, 120_000);

  it('does not replace a warm slot whose launches failed with the next one; retries it after a back-off that grows with each give-up', async () => {
    let clock = Date.now();
    const h = await dispatchHarness({ config: warmConfig({ owner: 'octo-org', minIdle: 1 }), now: () => new Date(clock) });
    await h.tick();
    await h.settle();
    expect(launchedNames(h)).toEqual([`gha-${POOL}-w1-1`]);

    // Act: the orchestrator gives up on it (its hosts never start)
    const launches = new DynamoDbLaunchStore(h.dynamodb, h.tableName);
    expect(await launches.failLaunch((await launches.job(warmJobId(POOL, 1)))!, `gha-${POOL}-w1-1`, 'give-up', clock)).toBe(true);
    await h.tick();
    await h.settle();

    // Assess: no slot 2 instead, nothing launched
    expect(launchedNames(h)).toHaveLength(1);
    expect(await getJob(h.dynamodb, h.tableName, warmJobId(POOL, 2))).toBeUndefined();

    // After the cool-down, slot 1 again, as its next attempt
    clock += 11 * 60_000;
    await h.tick();
    await h.settle();
    expect(launchedNames(h)).toEqual([`gha-${POOL}-w1-1`, `gha-${POOL}-w1-2`]);

    // Given up a second time: the back-off doubles (20 minutes), so 11 minutes later it is still waiting
    expect(await launches.failLaunch((await launches.job(warmJobId(POOL, 1)))!, `gha-${POOL}-w1-2`, 'give-up', clock)).toBe(true);
    expect(await getJob(h.dynamodb, h.tableName, warmJobId(POOL, 1))).toMatchObject({ warmGiveUps: 2, warmRetryAt: clock + 20 * 60_000 });
    clock += 11 * 60_000;
    await h.tick();
    await h.settle();
    expect(launchedNames(h)).toHaveLength(2);
    clock += 10 * 60_000;
    await h.tick();
    await h.settle();
    expect(launchedNames(h)).toEqual([`gha-${POOL}-w1-1`, `gha-${POOL}-w1-2`, `gha-${POOL}-w1-3`]);
    await h.close();
  }, 120_000);
});
