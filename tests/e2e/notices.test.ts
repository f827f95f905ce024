import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { headShaOf, type SimCheckRun } from '../../sim/check-runs';
import { startLocalStack, throwawayStack, type LocalStack } from '../../local/stack';
import { getJob } from '../helpers/aws';
import { waitUntil } from '../helpers/simulator';

/*
 * Why a job waits, told on GitHub, through the whole local system: the notifier reads the Jobs table's stream and
 * writes check runs on the job's commit in the simulator, which refuses what GitHub refuses (no Checks: write, an
 * unknown commit, a completed check run without a conclusion). A job in no trouble costs no check-run call.
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
type Queued = { jobs: { id: number; run_id: number }[] };

describe('check runs that say why a job waits', () => {
  let local: LocalStack;
  beforeAll(async () => {
    local = await startLocalStack({ ...(await throwawayStack(root, 'notices')), logLevel: 'ERROR', publisherTickMs: 5_000 });
  }, 120_000);
  afterAll(async () => local?.stop(), 60_000);

  const queue = async (labels: string[], durationMs = 200) => {
    const response = await fetch(`${local.sim!.url}/_sim/runs`, {
      method: 'POST',
      body: JSON.stringify({ owner: 'octo-org', repo: 'app', jobs: [{ name: 'build', labels, durationMs }] }),
    });
    return ((await response.json()) as Queued).jobs[0]!;
  };
  const checkRunsOf = (jobId: number): SimCheckRun[] => local.sim!.checkRuns().filter((c) => c.externalId === String(jobId));
  const checkRunCalls = () =>
    Object.entries(local.sim!.stats().calls)
      .filter(([route]) => route.includes('/check-runs'))
      .reduce((n, [, calls]) => n + calls, 0);
  const cancel = (jobId: number) => fetch(`${local.sim!.url}/_sim/jobs/${jobId}/cancel`, { method: 'POST' });

  // First: the orchestrator looks the runner group up once per cold start, and caches it once found.
  it('a job whose pool gave up launching gets a check run naming the pool and the cause', async () => {
    const groups = local.sim!.model.runnerGroups.splice(0);
    try {
      const job = await queue(['self-hosted', 'linux', 'docker']);
      await waitUntil('a check run for the job', () => checkRunsOf(job.id).length === 1, 30_000);
      const [run] = checkRunsOf(job.id);
      expect(run).toMatchObject({ headSha: headShaOf(job.run_id), status: 'completed', conclusion: 'action_required', name: 'runner for build' });
      expect(run!.output!.title).toBe('Pool docker-linux could not start a runner for this job');
      expect(run!.output!.summary).toContain('runner group "Default"');
      const dynamodb = new DynamoDBClient(local.aws.clientConfig);
      await waitUntil(
        'the check run recorded',
        async () => (await getJob(dynamodb, local.stack.tables.jobs, job.id))?.notice?.checkRunId !== undefined,
        10_000,
      );
      expect(await getJob(dynamodb, local.stack.tables.jobs, job.id)).toMatchObject({
        state: 'launch_failed',
        notice: { reason: 'launch-gave-up', checkRunId: run!.id },
      });
      await cancel(job.id);
      await waitUntil('the check run updated', () => checkRunsOf(job.id)[0]!.history.length === 2, 15_000);
    } finally {
      local.sim!.model.runnerGroups.push(...groups);
    }
  }, 60_000);

  it('a job with labels no pool has gets, within seconds, a check run naming its labels and the pools; cancelled, it says so', async () => {
    const started = Date.now();
    const job = await queue(['self-hosted', 'gpu']);

    await waitUntil('a check run for the job', () => checkRunsOf(job.id).length === 1, 15_000);
    const seconds = (Date.now() - started) / 1000;
    const [run] = checkRunsOf(job.id);
    expect(seconds).toBeLessThan(15);
    expect(run).toMatchObject({ headSha: headShaOf(job.run_id), status: 'completed', conclusion: 'action_required' });
    expect(run!.output!.title).toBe('No runner pool has every label of this job: [self-hosted, gpu]');
    for (const pool of local.config.pools)
      expect(run!.output!.summary).toContain(`- ${pool.name}: [self-hosted, ${pool.os}, ${pool.arch}, ${pool.labels.join(', ')}]`);

    // The job ends without a runner (its author cancels it): the check run says so, once.
    await cancel(job.id);
    await waitUntil('the check run updated', () => checkRunsOf(job.id)[0]!.history.length === 2, 15_000);
    expect(checkRunsOf(job.id)[0]).toMatchObject({
      status: 'completed',
      conclusion: 'neutral',
      output: { title: 'The job ended without a runner of this fleet' },
    });
  }, 60_000);

  it('a job in no trouble costs no check-run call, and a GitHub-hosted one neither', async () => {
    const before = checkRunCalls();
    const job = await queue(['self-hosted', 'linux', 'docker']);
    const hosted = await queue(['ubuntu-latest']);

    await waitUntil('the job done', () => local.sim!.model.jobs.get(job.id)!.status === 'completed', 60_000);
    await cancel(hosted.id);
    await waitUntil('the runner gone', () => local.sim!.model.runners.size === 0, 30_000);

    expect(local.sim!.model.jobs.get(job.id)).toMatchObject({ conclusion: 'success' });
    expect(checkRunCalls()).toBe(before);
    expect(checkRunsOf(job.id)).toEqual([]);
    expect(checkRunsOf(hosted.id)).toEqual([]);
    expect(local.iam.denials()).toEqual([]);
  }, 90_000);
});
