import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_ROUND_LIMITS } from '@runners/publisher';
import { getJob } from '../helpers/aws';
import { dispatchHarness, type DispatchHarness } from '../helpers/dispatch-harness';
import { testPoolsConfig } from '../helpers/pools';

let nextJobId = 1_000_000;
const newJobId = () => nextJobId++;

describe('dispatch: one job, one launch, on its pool only', () => {
  let h: DispatchHarness;
  /** How far the publisher's clock is ahead of the real one (past the idle-runner grace, for the spare runners). */
  let ahead = 0;
  const pastGrace = async () => {
    ahead += DEFAULT_ROUND_LIMITS.idleGraceMs + 1_000;
    await h.tick();
    await h.settle();
  };

  beforeAll(async () => {
    h = await dispatchHarness({ config: testPoolsConfig(), now: () => new Date(Date.now() + ahead) });
  });
  afterAll(async () => {
    await h.close();
  });

  it("1 queued job → exactly 1 launch message, on that pool's queue only", async () => {
    // Prepare
    const jobId = newJobId();

    // Act
    await h.deliver('queued', jobId, { labels: ['self-hosted', 'k8s'], repo: 'octo-org/app' });
    await h.settle();

    // Assess
    expect(h.launches('eks-k8s')).toEqual([
      expect.objectContaining({
        action: 'launch',
        pool: 'eks-k8s',
        host: 'eks',
        os: 'linux',
        jobId,
        launchAttempt: 1,
        runnerName: `gha-eks-k8s-${jobId}-1`,
        owner: 'octo-org',
        repo: 'app',
        labels: ['self-hosted', 'k8s'],
      }),
    ]);
    expect(h.launches('eks-k8s')[0]!.traceHeader).toMatch(/^Root=/);
    expect(h.received.get('docker-linux')).toEqual([]);
    expect(h.received.get('ec2-gpu')).toEqual([]);
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ state: 'dispatched', slotPool: 'eks-k8s', launchedRunner: `gha-eks-k8s-${jobId}-1` });
  });

  it('completed with our runner name → one teardown message for that runner, slot freed', async () => {
    const jobId = newJobId();
    await h.deliver('queued', jobId, { labels: ['docker'] });
    await h.settle();
    const runner = `gha-docker-linux-${jobId}-1`;

    await h.deliver('in_progress', jobId, { labels: ['docker'], runnerName: runner });
    await h.deliver('completed', jobId, { labels: ['docker'], runnerName: runner, conclusion: 'success' });
    await h.settle();

    expect(h.teardowns('docker-linux')).toEqual([
      expect.objectContaining({ action: 'teardown', runnerName: runner, reason: 'finished', onlyIfIdle: false, jobId }),
    ]);
    const item = await getJob(h.dynamodb, h.tableName, jobId);
    expect(item).toMatchObject({ state: 'completed', slotReleasedBy: 'publisher' });
    expect(item!.slotPool).toBeUndefined();
    expect(item!.finishedKey).toBeUndefined();
  });

  it('completed for a runner that is not ours → no teardown', async () => {
    const before = h.teardowns('docker-linux').length;
    const jobId = newJobId();
    await h.deliver('queued', jobId, { labels: ['docker'] });

    await h.deliver('completed', jobId, { labels: ['docker'], runnerName: 'GitHub Actions 5', conclusion: 'success' });
    await h.deliver('completed', newJobId(), { labels: ['docker'], runnerName: 'gha-docker-linux-424242-1', conclusion: 'success' });
    await h.settle();

    expect(h.teardowns('docker-linux')).toHaveLength(before);
    expect((await getJob(h.dynamodb, h.tableName, jobId))!.finishedKey).toBeUndefined();
  });

  it('unroutable job → nothing at all', async () => {
    const counts = [...h.received.values()].map((m) => m.length);
    const publisherRuns = h.invocations.publisher;

    await h.deliver('queued', newJobId(), { labels: ['self-hosted', 'no-such-label'] });
    await h.deliver('completed', newJobId(), { labels: ['ubuntu-latest'], runnerName: 'GitHub Actions 2' });
    await h.settle();

    expect([...h.received.values()].map((m) => m.length)).toEqual(counts);
    expect(h.invocations.publisher).toBe(publisherRuns);
  });

  it('cancelled while queued after its runner was launched → that runner is a spare for a while, then retired only if idle', async () => {
    const jobId = newJobId();
    await h.deliver('queued', jobId, { labels: ['docker'] });
    await h.settle();

    await h.deliver('completed', jobId, { labels: ['docker'], runnerName: null, conclusion: 'cancelled' });
    await h.settle();
    // GitHub would give it the pool's next queued job: kept, not torn down at once.
    expect(h.teardowns('docker-linux')).not.toContainEqual(expect.objectContaining({ runnerName: `gha-docker-linux-${jobId}-1` }));

    // No job of the pool queued past the grace: retired, only if GitHub says it is idle.
    await pastGrace();
    expect(h.teardowns('docker-linux')).toContainEqual(
      expect.objectContaining({ runnerName: `gha-docker-linux-${jobId}-1`, reason: 'job-cancelled', onlyIfIdle: true, jobId }),
    );
    // The slot stays taken until the orchestrator has really removed the runner (it may have taken another job).
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ slotPool: 'docker-linux' });
  });

  it("job stealing: the runner launched for A runs B → that runner goes, A waits for B's own runner, not a new one", async () => {
    const [a, b] = [newJobId(), newJobId()];
    await h.deliver('queued', a, { labels: ['docker'] });
    await h.deliver('queued', b, { labels: ['docker'] });
    await h.settle();
    const [runnerOfA, runnerOfB] = [`gha-docker-linux-${a}-1`, `gha-docker-linux-${b}-1`];

    await h.deliver('completed', b, { labels: ['docker'], runnerName: runnerOfA, conclusion: 'success' });
    await h.settle();

    // The runner that ran B is torn down; its slot (held by A's record) is freed.
    expect(h.teardowns('docker-linux')).toContainEqual(expect.objectContaining({ runnerName: runnerOfA, reason: 'finished', onlyIfIdle: false, jobId: a }));
    // A is still queued on GitHub and lost its runner: back in the queue, left to B's own runner (a spare now: GitHub
    // gives it A within seconds) instead of a new runner that could only end idle.
    expect(await getJob(h.dynamodb, h.tableName, a)).toMatchObject({ state: 'queued', queueKey: 'docker-linux' });
    expect(h.launches('docker-linux')).not.toContainEqual(expect.objectContaining({ jobId: a, launchAttempt: 2 }));
    expect(h.teardowns('docker-linux')).not.toContainEqual(expect.objectContaining({ runnerName: runnerOfB }));
    expect((await getJob(h.dynamodb, h.tableName, b))!.slotPool).toBe('docker-linux');

    // The spare did not take it within the grace (here nothing runs): A gets a runner of its own, attempt 2.
    await pastGrace();
    expect(h.launches('docker-linux')).toContainEqual(expect.objectContaining({ jobId: a, launchAttempt: 2, runnerName: `gha-docker-linux-${a}-2` }));
    expect(await getJob(h.dynamodb, h.tableName, a)).toMatchObject({ state: 'dispatched', launchedRunner: `gha-docker-linux-${a}-2` });
    // No job left for the spare: retired, only if GitHub says it is idle; its slot stays until then.
    await pastGrace();
    expect(h.teardowns('docker-linux')).toContainEqual(
      expect.objectContaining({ runnerName: runnerOfB, reason: 'job-ran-elsewhere', onlyIfIdle: true, jobId: b }),
    );
    expect((await getJob(h.dynamodb, h.tableName, b))!.slotPool).toBe('docker-linux');
  });
});
