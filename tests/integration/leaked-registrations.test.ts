import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deploymentLabel, parseWorkflowJobEvent } from '@runners/shared';
import { DynamoDbDispatchStore, DynamoDbJobStore, DynamoDbLaunchStore } from '@runners/shared/dynamodb';
import { removeLeakedRegistrations, type RegistrationPorts } from '@runners/reconciler';
import { createJobsTable, motoTarget } from '../helpers/aws';
import { testPoolsConfig } from '../helpers/pools';
import { ORG, simulatorWithClient } from '../helpers/simulator';
import { examplePayload } from '../helpers/webhooks';

/*
 * Teardown does not ask GitHub to remove the runner of a finished job (GitHub removes an ephemeral runner itself);
 * this reconciler pass removes what a runner that died mid-job left: registrations of ours, offline, whose record no
 * longer wants them. Against the simulator and the Jobs table on moto.
 */

describe('leftover runner registrations', () => {
  let env: Awaited<ReturnType<typeof simulatorWithClient>>;
  let ports: RegistrationPorts;
  let jobs: DynamoDbJobStore;
  let dispatch: DynamoDbDispatchStore;
  const config = testPoolsConfig();
  const POOL = 'docker-linux';

  beforeAll(async () => {
    env = await simulatorWithClient();
    const dynamodb = new DynamoDBClient(motoTarget().clientConfig);
    const tableName = await createJobsTable(motoTarget(), 'registrations');
    jobs = new DynamoDbJobStore(dynamodb, tableName);
    dispatch = new DynamoDbDispatchStore(dynamodb, tableName);
    // The clock runs 3 minutes ahead: records just written are past the grace.
    ports = {
      github: env.client,
      config,
      launches: new DynamoDbLaunchStore(dynamodb, tableName),
      now: () => new Date(Date.now() + 180_000),
      registrationGraceMs: 120_000,
      maxRepositories: 100,
    };
  });
  afterAll(async () => {
    await env.sim.stop();
  });

  const register = async (name: string) => {
    const installationId = await env.client.installationId(ORG);
    return (await env.client.generateJitConfig(installationId, ORG, { name, labels: ['self-hosted', 'docker'] })).runnerId;
  };
  const record = async (action: 'queued' | 'completed', jobId: number, runnerName: string | null = null) => {
    const payload = examplePayload(action, {
      jobId,
      labels: ['docker'],
      repo: 'octo-org/app',
      runnerName,
      ...(action === 'completed' ? { conclusion: 'failure' } : {}),
    });
    await jobs.recordWebhook(parseWorkflowJobEvent(payload, `d-${jobId}-${action}`), { pool: POOL }, new Date());
  };
  const registered = () => [...env.sim.model.runners.values()].map((r) => r.name).sort();

  it('removes offline registrations of ours whose record no longer wants them; keeps the others', async () => {
    // Its runner died mid-job: the job completed (failed), the registration stayed, offline.
    await register(`gha-${POOL}-90000001-1`);
    await record('completed', 90_000_001, `gha-${POOL}-90000001-1`);
    // Relaunched as attempt 2: attempt 1's registration is left over.
    await register(`gha-${POOL}-90000002-1`);
    await register(`gha-${POOL}-90000002-2`);
    await record('queued', 90_000_002);
    await dispatch.markDispatched(90_000_002, { pool: POOL, runnerName: `gha-${POOL}-90000002-2`, attempt: 2, at: new Date() });
    // Not ours.
    await register('build-box-7');
    // Ours, online (it has a host: the leaked-host rule's), record finished.
    await register(`gha-${POOL}-90000003-1`);
    env.sim.model.openSession([...env.sim.model.runners.values()].find((r) => r.name === `gha-${POOL}-90000003-1`)!);
    await record('completed', 90_000_003, 'another-runner');

    // Within the grace: nothing
    expect(await removeLeakedRegistrations({ ...ports, now: () => new Date() })).toMatchObject({ removed: 0 });

    // Act
    const report = await removeLeakedRegistrations(ports);

    // Assess
    expect(report).toMatchObject({ scopes: 2, removed: 2 });
    expect(registered()).toEqual(['build-box-7', `gha-${POOL}-90000002-2`, `gha-${POOL}-90000003-1`]);
    expect(await removeLeakedRegistrations(ports)).toMatchObject({ removed: 0 });
  }, 30_000);

  it('leaves another deployment’s runners alone: same prefix and pool names, but not this deployment’s label', async () => {
    const ours = deploymentLabel('ephemeral-runners:111111111111:eu-west-1');
    const theirs = deploymentLabel('ephemeral-runners:222222222222:eu-west-1');
    const installationId = await env.client.installationId(ORG);
    const registerWith = (name: string, label: string) => env.client.generateJitConfig(installationId, ORG, { name, labels: ['self-hosted', 'docker', label] });
    // Both jobs unknown to this deployment's table: to a pass without labels, both would be leftovers.
    await registerWith(`gha-${POOL}-90000011-1`, ours);
    await registerWith(`gha-${POOL}-90000012-1`, theirs);

    const report = await removeLeakedRegistrations({ ...ports, deploymentLabel: ours });

    expect(report.removed).toBe(1);
    expect(registered()).toContain(`gha-${POOL}-90000012-1`);
    expect(registered()).not.toContain(`gha-${POOL}-90000011-1`);
  }, 30_000);
});
