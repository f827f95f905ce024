import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAOS_SIM_TIMING } from '../../local/chaos/scenario';
import { startLocalStack, throwawayStack, type LocalStack } from '../../local/stack';
import { getJob } from '../helpers/aws';
import { waitUntil } from '../helpers/simulator';

/*
 * A runner host that dies mid-job, through the whole local system: its container killed behind the system's back
 * (as a spot reclaim or a crashed VM). GitHub (the simulator) sees the runner go offline and fails its job when the
 * job request is no longer renewed; the system must free the slot, leave no host and no registration behind, and
 * run every later job of that pool — more of them than the pool has slots, so a leaked slot would show.
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
type Queued = { jobs: { id: number }[] };

describe('a runner host killed mid-job', () => {
  let local: LocalStack;
  beforeAll(async () => {
    local = await startLocalStack({
      ...(await throwawayStack(root, 'host-death')),
      logLevel: 'ERROR',
      publisherTickMs: 5_000,
      hostRulesTickMs: 5_000,
      simTiming: CHAOS_SIM_TIMING,
    });
  }, 120_000);
  afterAll(async () => local?.stop(), 60_000);

  const queue = async (count: number, durationMs: number) => {
    const response = await fetch(`${local.sim!.url}/_sim/runs`, {
      method: 'POST',
      body: JSON.stringify({ owner: 'octo-org', repo: 'app', jobs: [{ name: 'lint', labels: ['self-hosted', 'linux', 'docker'], durationMs, matrix: count }] }),
    });
    return ((await response.json()) as Queued).jobs.map((j) => j.id);
  };
  const job = (id: number) => local.sim!.model.jobs.get(id)!;

  it('fails that job once, frees its slot, leaves no host or registration, and the pool runs every later job', async () => {
    const pool = local.config.pools.find((p) => p.name === 'docker-linux')!;
    const [doomed] = await queue(1, 120_000);
    await waitUntil('the job running', () => job(doomed!).status === 'in_progress', 60_000);

    await local.runnerHosts.delete(job(doomed!).runnerName!);

    await waitUntil('GitHub failing the job', () => job(doomed!).status === 'completed', 30_000);
    expect(job(doomed!)).toMatchObject({ conclusion: 'failure', endedBy: 'lost-communication' });
    const dynamodb = new DynamoDBClient(local.aws.clientConfig);
    await waitUntil('the slot freed', async () => (await getJob(dynamodb, local.stack.tables.jobs, doomed!))?.slotPool === undefined, 30_000);
    await waitUntil('no registration left', () => local.sim!.model.runners.size === 0, 30_000);
    expect(await local.runnerHosts.list()).toEqual([]);

    const later = await queue(pool.maxRunners * 2, 300);
    await waitUntil('every later job done', () => later.every((id) => job(id).status === 'completed'), 120_000);
    expect(later.map((id) => job(id).conclusion)).toEqual(later.map(() => 'success'));
    await waitUntil('nothing left', async () => local.sim!.model.runners.size === 0 && (await local.runnerHosts.list()).length === 0, 30_000);
    expect(local.iam.denials()).toEqual([]);
  }, 300_000);

  it('a spot interruption: the warning marks the host, the job GitHub then fails is classified interrupted and re-run once', async () => {
    // Two runs (GitHub re-runs a job only once the rest of its run has finished).
    const [warned] = await queue(1, 25_000);
    const [unwarned] = await queue(1, 25_000);
    await waitUntil('both running', () => job(warned!).status === 'in_progress' && job(unwarned!).status === 'in_progress', 60_000);
    const hostOf = async (id: number) => (await local.runnerHosts.list()).find((h) => h.runnerName === job(id).runnerName)!;
    const warnedHost = await hostOf(warned!);

    // EC2's warning, two minutes ahead of the reclaim, in EventBridge's shape; a container stands for the instance.
    const reports = await local.putEvent({
      source: 'aws.ec2',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      detail: { 'instance-id': warnedHost.id, 'instance-action': 'terminate' },
    });
    expect(reports).toEqual([expect.objectContaining({ kind: 'spot-interruption', found: true, runnerName: warnedHost.runnerName, tornDown: false })]);
    // The reclaim; and another host dying without a warning (a crash: a build failure as far as anyone can tell).
    await local.runnerHosts.delete(warnedHost.runnerName);
    await local.runnerHosts.delete((await hostOf(unwarned!)).runnerName);

    await waitUntil('GitHub failing both', () => job(warned!).status === 'completed' && job(unwarned!).status === 'completed', 30_000);
    const dynamodb = new DynamoDBClient(local.aws.clientConfig);
    await waitUntil(
      'the warned job classified and re-run',
      async () => (await getJob(dynamodb, local.stack.tables.jobs, warned!))?.rerunRequestedAt !== undefined,
      60_000,
    );
    expect(await getJob(dynamodb, local.stack.tables.jobs, warned!)).toMatchObject({ state: 'completed', conclusion: 'failure', failureClass: 'interrupted' });
    const reruns = () => [...local.sim!.model.jobs.values()].filter((j) => j.rerunOf === warned);
    await waitUntil('the re-run done', () => reruns().length === 1 && reruns()[0]!.status === 'completed', 120_000);
    expect(reruns()[0]).toMatchObject({ conclusion: 'success', runAttempt: 2 });
    // Not the one without a warning: a plain failure, not re-run.
    expect((await getJob(dynamodb, local.stack.tables.jobs, unwarned!))?.failureClass).toBeUndefined();
    expect([...local.sim!.model.jobs.values()].filter((j) => j.rerunOf === unwarned)).toEqual([]);
    await waitUntil('nothing left', async () => local.sim!.model.runners.size === 0 && (await local.runnerHosts.list()).length === 0, 60_000);
    // Once: a second look finds the one re-run still the only one.
    expect(reruns()).toHaveLength(1);
    expect(local.iam.denials()).toEqual([]);
  }, 300_000);
});
