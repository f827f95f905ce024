import { DEFAULT_ROUND_LIMITS } from '@runners/publisher';
import { describe, expect, it } from '@jest/globals';
import type { PoolsConfigInput } from '@runners/shared';
import { getJob } from '../helpers/aws';
import { dispatchHarness, type DispatchHarness } from '../helpers/dispatch-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';

/** The test config with the docker pool's limits replaced. */
function dockerPoolLimits(maxRunners: number, launchesPerMinute: number) {
  const input = testPoolsInput();
  const pools = input.pools.map((p) => (p.name === 'docker-linux' ? { ...p, maxRunners, launchesPerMinute } : p)) as PoolsConfigInput['pools'];
  return testPoolsConfig({ pools });
}

/** Queue `count` docker jobs with consecutive ids and strictly increasing creation times (FIFO order = id order). */
async function queueJobs(h: DispatchHarness, firstId: number, count: number, repo = 'octo-org/matrix'): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const jobId = firstId + i;
    await h.deliver('queued', jobId, { labels: ['docker'], repo, createdAt: new Date(Date.UTC(2030, 0, 1) + jobId).toISOString() });
    ids.push(jobId);
  }
  return ids;
}

const launchedIds = (h: DispatchHarness) => h.launches('docker-linux').map((m) => m.jobId);

describe('dispatch flow control', () => {
  it('500 queued, maxRunners 20: exactly 20 dispatched, each completion frees one slot, FIFO, never twice', async () => {
    // Prepare
    const h = await dispatchHarness({ config: dockerPoolLimits(20, 1_000) });
    const ids = await queueJobs(h, 20_000_000, 500);

    // Act
    await h.settle();

    // Assess: the 20 oldest, once each
    expect(launchedIds(h)).toEqual(ids.slice(0, 20));

    // Act: the publisher invoked concurrently, and the whole stream redelivered to the messenger
    await Promise.all([h.tick(), h.tick(), h.tick()]);
    await h.settle();
    expect(launchedIds(h)).toHaveLength(20);

    // Act: 5 jobs complete, each on the runner launched for it
    for (const jobId of ids.slice(0, 5)) {
      await h.deliver('completed', jobId, { labels: ['docker'], runnerName: `gha-docker-linux-${jobId}-1`, conclusion: 'success' });
      await h.settle();
      // Assess: one completion, one teardown, one new launch: the next oldest
      expect(h.teardowns('docker-linux').at(-1)).toMatchObject({ runnerName: `gha-docker-linux-${jobId}-1` });
    }
    expect(h.teardowns('docker-linux')).toHaveLength(5);
    expect(launchedIds(h)).toEqual(ids.slice(0, 25));
    expect(new Set(launchedIds(h)).size).toBe(launchedIds(h).length);
    await h.close();
  }, 180_000);

  it('a redelivered stream batch launches nothing twice', async () => {
    const h = await dispatchHarness({ config: dockerPoolLimits(10, 1_000) });
    const ids = await queueJobs(h, 21_000_000, 15);
    await h.settle();
    expect(launchedIds(h)).toEqual(ids.slice(0, 10));

    // Act: a second stream consumer from the start of the stream replays every record to the messenger
    const { createStreamSource } = await import('../../local/event-sources/dynamodb-stream-source');
    const { createMessengerHandler } = await import('@runners/messenger');
    const { SnsDispatchBus } = await import('@runners/shared/sns');
    const { SNSClient } = await import('@aws-sdk/client-sns');
    const { quietPowertools } = await import('../helpers/handler-ports');
    const { lambdaContext } = await import('../../local/lambda-context.mjs');
    const messenger = createMessengerHandler({
      bus: new SnsDispatchBus(new SNSClient(h.target.clientConfig), { publisher: h.topology.publisherTopicArn }),
      traceHeader: () => undefined,
      ...quietPowertools('messenger'),
    });
    const replay = await createStreamSource({
      target: h.target,
      tableName: h.tableName,
      startingPosition: 'TRIM_HORIZON',
      invoke: (e) => messenger(e as never, lambdaContext('messenger')),
    });
    expect(await replay.drain()).toBeGreaterThan(0);
    await h.settle();

    // Assess
    expect(launchedIds(h)).toEqual(ids.slice(0, 10));
    await replay.stop();
    await h.close();
  }, 60_000);

  it('fairness: A queues 200, then B queues 1, capacity 5 → B is in the first round', async () => {
    const h = await dispatchHarness({ config: dockerPoolLimits(5, 1_000) });
    await queueJobs(h, 22_000_000, 200, 'octo-org/monorepo');
    const [bJob] = await queueJobs(h, 22_100_000, 1, 'octo-org/tiny');

    await h.settle();

    expect(launchedIds(h)).toHaveLength(5);
    expect(launchedIds(h)).toContain(bJob);
    expect(
      h
        .launches('docker-linux')
        .filter((m) => m.repo === 'monorepo')
        .map((m) => m.jobId),
    ).toEqual([22_000_000, 22_000_001, 22_000_002, 22_000_003]);
    await h.close();
  }, 120_000);

  it('launch rate: launchesPerMinute 30 holds across invocations', async () => {
    // Prepare: a clock the test moves
    let now = Date.UTC(2031, 0, 1, 12, 0, 0);
    const h = await dispatchHarness({ config: dockerPoolLimits(200, 30), now: () => new Date(now) });
    await queueJobs(h, 23_000_000, 100);

    // Act + Assess: the first minute allows 30, however often the publisher runs
    await h.settle();
    expect(launchedIds(h)).toHaveLength(30);
    for (const seconds of [10, 30, 59]) {
      now = Date.UTC(2031, 0, 1, 12, 0, seconds);
      await h.tick();
      await h.settle();
      expect(launchedIds(h)).toHaveLength(30);
    }
    // A minute after the first launches, 30 more; never more than 30 in any 60 s
    now = Date.UTC(2031, 0, 1, 12, 1, 0, 1);
    await h.tick();
    await h.settle();
    expect(launchedIds(h)).toHaveLength(60);
    await h.close();
  }, 120_000);

  it('no hot loop: a full pool with 1,000 queued runs the publisher a bounded number of times per completion', async () => {
    const h = await dispatchHarness({ config: dockerPoolLimits(5, 1_000) });
    const ids = await queueJobs(h, 24_000_000, 1_000);
    await h.settle();
    expect(launchedIds(h)).toEqual(ids.slice(0, 5));
    const runsBefore = h.invocations.publisher;

    for (const jobId of ids.slice(0, 3)) {
      await h.deliver('completed', jobId, { labels: ['docker'], runnerName: `gha-docker-linux-${jobId}-1`, conclusion: 'success' });
      await h.settle();
    }

    // One notification per completion (the messenger coalesces; the publisher's own writes notify nobody).
    expect(h.invocations.publisher - runsBefore).toBe(3);
    expect(launchedIds(h)).toEqual(ids.slice(0, 8));
    await h.close();
  }, 240_000);

  it('re-notifies itself only when it stopped at its own batch limit with capacity left', async () => {
    const h = await dispatchHarness({ config: dockerPoolLimits(30, 1_000), limits: { launchesPerRound: 10 } });
    await queueJobs(h, 25_000_000, 50);

    await h.settle();

    // 30 launches in rounds of 10: the first round and two self-notifications, then the pool is full and it stops.
    expect(launchedIds(h)).toHaveLength(30);
    await h.close();
  }, 60_000);

  it('a launch that cannot be published puts its job back in the queue, slot freed', async () => {
    // A topic that is not the stack's: the publisher's role may not publish there (AuthorizationError, as on AWS).
    const h = await dispatchHarness({
      config: dockerPoolLimits(5, 1_000),
      jobsTopicArn: 'arn:aws:sns:us-east-1:000000000000:no-such-topic',
      expectDenied: ['sns:Publish'],
    });
    const [jobId] = await queueJobs(h, 26_000_000, 1);

    await h.settle();

    const item = await getJob(h.dynamodb, h.tableName, jobId!);
    expect(item).toMatchObject({ state: 'queued', queueKey: 'docker-linux', launchAttempt: 1 });
    expect(item!.slotPool).toBeUndefined();
    // Retried by the tick, not in a tight loop: one publisher run for the one notification.
    expect(h.invocations.publisher).toBe(1);
    await h.close();
  }, 60_000);
});

describe('job stealing across pools', () => {
  it("a runner of pool B that ran a job of pool A frees B's slot, and B gets a round without waiting for the tick", async () => {
    // Prepare: A = [docker], B = [docker, big] with room for one runner; a [docker] job routes to A (fewest extra
    // labels), but B's runners can run it too.
    const input = testPoolsInput();
    const pools = [
      { ...input.pools[0]!, name: 'pool-a', maxRunners: 5 },
      { ...input.pools[0]!, name: 'pool-b', labels: ['docker', 'big'], maxRunners: 1 },
    ] as PoolsConfigInput['pools'];
    let clock = Date.now();
    const h = await dispatchHarness({ config: testPoolsConfig({ pools }), now: () => new Date(clock) });
    const [x, y, z] = [27_000_001, 27_000_002, 27_000_003];
    await h.deliver('queued', x, { labels: ['docker', 'big'] });
    await h.deliver('queued', y, { labels: ['docker', 'big'] });
    await h.deliver('queued', z, { labels: ['docker'] });
    await h.settle();
    expect(h.launches('pool-b').map((m) => m.jobId)).toEqual([x]);
    expect(h.launches('pool-a').map((m) => m.jobId)).toEqual([z]);

    // Act: GitHub gives z (pool A's job) to the runner launched for x in pool B, which finishes it
    await h.deliver('completed', z, { labels: ['docker'], runnerName: `gha-pool-b-${x}-1`, conclusion: 'success' });
    await h.settle();

    // Assess: B's runner torn down on B's queue and B's slot freed; x, still queued on GitHub, lost its runner and is
    // relaunched in B without waiting for the tick (oldest first, before y); z's own runner is a spare of pool A for a
    // while (a job of A would take it), then, no job of A queued, retired if it is idle.
    expect(h.teardowns('pool-b')).toEqual([expect.objectContaining({ runnerName: `gha-pool-b-${x}-1`, jobId: x })]);
    expect(h.launches('pool-b').map((m) => m.runnerName)).toEqual([`gha-pool-b-${x}-1`, `gha-pool-b-${x}-2`]);
    expect(h.teardowns('pool-a')).toEqual([]);
    clock += DEFAULT_ROUND_LIMITS.idleGraceMs + 1_000;
    await h.tick();
    await h.settle();
    expect(h.teardowns('pool-a')).toEqual([expect.objectContaining({ runnerName: `gha-pool-a-${z}-1`, onlyIfIdle: true })]);
    await h.close();
  }, 60_000);
});
