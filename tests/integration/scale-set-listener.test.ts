import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, parsePoolsConfig, scaleSetJobNumber, type JobRecord, type PoolsConfig } from '@runners/shared';
import { DynamoDbJobStore, DynamoDbListenerLease } from '@runners/shared/dynamodb';
import type { GitHubClient } from '@runners/shared/github';
import { ScaleSets, scaleSetTargetOf } from '@runners/shared/scaleset';
import { DEFAULT_LISTENER_LIMITS, listen, scaleSetApps, type ListenerPorts, type ListenReport } from '@runners/listener';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimJob } from '../../sim/model';
import type { Simulator } from '../../sim/server';
import { getJob, motoTarget } from '../helpers/aws';
import { enforcedIam } from '../helpers/iam';
import { testPoolsInput } from '../helpers/pools';
import { simControl, simulatorWithClient } from '../helpers/simulator';

/*
 * The listener on real parts: GitHub's scale-set protocol as the simulator speaks it (short clocks), the Jobs table on
 * moto behind the listener's synthesized role (enforced IAM), the listening loop and its lease as they ship. Runners
 * are the simulator's model taking jobs (a runner of the scale set, registered from its JIT config).
 */

const config: PoolsConfig = parsePoolsConfig({
  ...testPoolsInput(),
  pools: [
    ...testPoolsInput().pools,
    {
      name: 'lint-ss',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['lint'],
      maxRunners: 20,
      launchesPerMinute: 60,
      intake: 'scaleset',
      scaleSet: { owner: 'octo-org' },
      docker: { image: 'sim-runner:latest' },
    },
  ],
});
const LIMITS = {
  ...DEFAULT_LISTENER_LIMITS,
  leaseMs: 1_500,
  renewEveryMs: 400,
  stopBeforeEndMs: 300,
  conflictRetryMs: 300,
  withdrawnGraceMs: 4_000,
  errorPauseMs: 100,
};

describe('scale-set listener', () => {
  let sim: Simulator;
  let client: GitHubClient;
  let iam: Awaited<ReturnType<typeof enforcedIam>>;
  let ports: Omit<ListenerPorts, 'holder'>;
  const admin = new DynamoDBClient(motoTarget().clientConfig);

  beforeAll(async () => {
    const env = await simulatorWithClient({
      scaleSets: { longPollMs: 300, sessionIdleReapMs: 60_000, assignTimeoutMs: 1_500, requeueDelayMs: 200, maxWithdrawals: 3 },
    });
    sim = env.sim;
    client = env.client;
    iam = await enforcedIam({ pools: config });
    const dynamodb = new DynamoDBClient(iam.as('listener').clientConfig);
    ports = {
      config,
      lease: new DynamoDbListenerLease(dynamodb, iam.tableName),
      intake: { config, router: createRouter(config.pools), store: new DynamoDbJobStore(dynamodb, iam.tableName), now: () => new Date() },
      appOf: scaleSetApps(config, env.client, new Map(), { retryBaseMs: 10 }),
      limits: LIMITS,
      nowMs: () => Date.now(),
      sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    };
  });
  afterAll(async () => {
    await sim.stop();
    const denied = iam.proxy.denials();
    await iam.stop();
    expect(denied).toEqual([]);
  });

  const run = (holder: string, forMs: number, extra: Partial<ListenerPorts> = {}) => listen({ ...ports, holder, ...extra }, Date.now() + forMs);
  const queue = async (count: number) =>
    (
      await simControl<{ jobs: { id: number }[] }>(sim, 'POST', '/_sim/runs', {
        owner: 'octo-org',
        repo: 'app',
        jobs: [{ labels: ['self-hosted', 'lint'], durationMs: 60_000, matrix: count }],
      })
    ).jobs.map((j) => sim.model.jobs.get(j.id)!);
  // The scale set's id of a job, remembered: GitHub forgets it once the job is over.
  const guids = new Map<number, string>();
  const scaleSetJobIdOf = (job: SimJob) => {
    const guid = guids.get(job.id) ?? sim.scaleSets.scaleSetJobIdOf(job.id);
    if (guid) guids.set(job.id, guid);
    return guid ?? '';
  };
  const recordOf = (job: SimJob) => getJob(admin, iam.tableName, scaleSetJobNumber(scaleSetJobIdOf(job), 0));
  const until = async (what: () => Promise<boolean> | boolean, ms = 15_000, state?: () => Promise<unknown>) => {
    const end = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > end) throw new Error(`timed out${state ? `: ${JSON.stringify(await state())}` : ''}`);
      await sleep(100);
    }
  };

  const timing = (scaleSets: Record<string, number>) => simControl(sim, 'PUT', '/_sim/scale-sets/timing', scaleSets);

  it('records each job GitHub assigns to the scale set once, through the producer’s intake, and hands over cleanly', async () => {
    await timing({ assignTimeoutMs: 60_000 });
    const jobs = await queue(4);
    const [report] = (await run('listener-a', 4_000)) as [ListenReport];
    expect(report).toMatchObject({ pool: 'lint-ss', outcome: 'listened', sessions: 1, sessionConflicts: 0 });
    expect(report.recorded).toBe(4);
    for (const job of jobs) {
      const record = (await recordOf(job)) as JobRecord;
      expect(record).toMatchObject({
        state: 'queued',
        queueKey: 'lint-ss',
        job: { pool: 'lint-ss', owner: 'octo-org', repo: 'app', scaleSetJobId: scaleSetJobIdOf(job) },
      });
    }
    // Handed over: no session left open, and the next listener takes the lease at once.
    expect(sim.stats().scaleSets.sessionsCreated).toBeGreaterThanOrEqual(1);
    const [next] = (await run('listener-b', 1_500)) as [ListenReport];
    expect(next).toMatchObject({ outcome: 'listened', sessionConflicts: 0, recorded: 0, predecessorSessionsEnded: 0 });
  });

  it('two listeners at once: one holds the lease and the session, the other does nothing', async () => {
    const reports = (await Promise.all([run('twin-1', 2_500), run('twin-2', 2_500)])).flat();
    expect(reports.map((r) => r.outcome).sort()).toEqual(['held-by-another', 'listened']);
    expect(reports.reduce((n, r) => n + r.sessions, 0)).toBe(1);
    expect(reports.reduce((n, r) => n + r.sessionConflicts, 0)).toBe(0);
  });

  it('a listener that dies mid-poll is replaced within its lease: its session ended, no job lost or recorded twice', async () => {
    // The first listener's process dies: from then on nothing it does reaches AWS or GitHub (every call hangs).
    let dead = false;
    const hang = <T>(call: () => Promise<T>): Promise<T> => (dead ? new Promise<T>(() => undefined) : call());
    void run('doomed', 30_000, {
      lease: {
        acquire: (...a) => hang(() => ports.lease.acquire(...a)),
        renew: (...a) => hang(() => ports.lease.renew(...a)),
        release: (...a) => hang(() => ports.lease.release(...a)),
      },
      appOf: scaleSetApps(config, client, new Map(), { retryBaseMs: 10, fetch: (input, init) => hang(() => fetch(input, init)) }),
    });
    await until(async () => sim.stats().scaleSets.sessionsCreated >= 1 && (await sleep(300), true));
    const jobs = await queue(3);
    dead = true;
    // Its successor: waits out the lease (1.5 s), ends the dead one's session by the id it left, listens.
    await sleep(LIMITS.leaseMs + 200);
    const [report] = (await run('successor', 4_000)) as [ListenReport];
    expect(report).toMatchObject({ outcome: 'listened', predecessorSessionsEnded: 1, sessionConflicts: 0 });
    for (const job of jobs) expect(await recordOf(job)).toMatchObject({ state: 'queued' });
  });

  it('follows a job through a runner of the scale set: started, completed, the runner named', async () => {
    // Jobs the earlier tests left queued would go first to the scale set's one idle runner.
    for (const left of sim.model.jobs.values()) if (left.status === 'queued') sim.model.cancelJob(left);
    const [job] = await queue(1);
    const listening = run('follower', 12_000);
    const record = () => recordOf(job!);
    await until(async () => (await record())?.state === 'queued');
    // A runner of the scale set (from its JIT config, as an orchestrator makes it) comes online and takes the job.
    const runner = await startScaleSetRunner('gha-lint-ss-follow-1');
    await until(
      async () => (await record())?.state === 'in_progress',
      15_000,
      async () => ({
        record: await record(),
        job: sim.model.jobs.get(job!.id)?.status,
        sets: sim.scaleSets.inspect(),
        runner: { ...runner, waiter: undefined },
      }),
    );
    expect(await record()).toMatchObject({ runnerName: runner.name });
    sim.model.completeJob(runner, job!.id, 'success');
    await until(async () => (await record())?.state === 'completed');
    expect(await record()).toMatchObject({ conclusion: 'success', runnerName: runner.name, finishedKey: 'lint-ss' });
    await listening;
  });

  it('keeps a withdrawn assignment open and follows the job’s reassignment; closes it as cancelled when none comes', async () => {
    await timing({ assignTimeoutMs: 1_500 });
    const [job] = await queue(1);
    const listening = run('withdrawals', 14_000);
    const record = () => recordOf(job!);
    await until(async () => (await record())?.state === 'queued');
    // No runner takes it: GitHub withdraws the assignment (1.5 s) and assigns it again, the same job each time.
    await until(async () => sim.stats().scaleSets.withdrawals >= 1);
    await until(async () => (await record())?.withdrawnAt === undefined && sim.stats().scaleSets.withdrawals >= 1, 5_000);
    expect(await record()).toMatchObject({ state: 'queued' });
    // Then it is cancelled while assigned: the same message as a withdrawal; nothing follows; the grace closes it.
    sim.model.cancelJob(job!);
    await until(
      async () => (await record())?.state === 'completed',
      9_000,
      async () => ({ record: await record(), job: sim.model.jobs.get(job!.id)?.status, stats: sim.scaleSets.stats() }),
    );
    expect(await record()).toMatchObject({ state: 'completed', conclusion: 'cancelled', finishedKey: 'lint-ss' });
    await listening;
  });

  it('a Jobs-table write failing past its retries ends the run as failed and hands over; the message comes back to the next', async () => {
    await timing({ assignTimeoutMs: 60_000 });
    for (const left of sim.model.jobs.values()) if (left.status === 'queued') sim.model.cancelJob(left);
    const [job] = await queue(1);
    const store = ports.intake.store;
    const failing = Object.create(store, {
      recordWebhook: {
        value: async () => {
          throw new Error('ProvisionedThroughputExceededException');
        },
      },
    }) as typeof store;
    const [failed] = (await run('failing', 4_000, { intake: { ...ports.intake, store: failing } })) as [ListenReport];
    expect(failed.outcome).toBe('failed');
    // Handed over at once: its session ended (no conflict for the next), its lease free, the message not acknowledged.
    expect(sim.scaleSets.inspect().every((ss) => ss.session === null)).toBe(true);
    const [next] = (await run('after-failure', 2_500)) as [ListenReport];
    expect(next).toMatchObject({ outcome: 'listened', sessionConflicts: 0 });
    expect(await recordOf(job!)).toMatchObject({ state: 'queued' });
  });

  it('a lease renewal that fails is tried again at the next tick, not fatal', async () => {
    let failures = 2;
    const [report] = (await run('flaky-renewals', 3_000, {
      lease: {
        acquire: (...a) => ports.lease.acquire(...a),
        renew: async (...a) => {
          if (failures-- > 0) throw new Error('ThrottlingException');
          return ports.lease.renew(...a);
        },
        release: (...a) => ports.lease.release(...a),
      },
    })) as [ListenReport];
    expect(failures).toBeLessThan(0);
    expect(report.outcome).toBe('listened');
  });

  async function startScaleSetRunner(name: string) {
    const target = scaleSetTargetOf(config, config.pools.at(-1)!);
    const installationId = await ports.appOf(config.pools.at(-1)!).installation(target);
    const jit = await new ScaleSets(client, { retryBaseMs: 10 }).jitConfig(installationId, target, name);
    const runner = sim.model.runners.get(jit.runnerId)!;
    sim.model.openSession(runner);
    sim.model.waitForJob(runner, () => undefined);
    return runner;
  }
});
