import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { PoolsConfig } from '@runners/shared';
import Docker from 'dockerode';
import type { Ec2Host } from '@runners/orchestrators/hosts';
import { ensureSimAmiImage } from '../../sim/ec2/instance';
import { bootLaunchedInstance, ec2HostUnderIam } from '../helpers/ec2';
import { motoTarget } from '../helpers/aws';
import { enforcedIam } from '../helpers/iam';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';
import { ORG, simControl, simulatorWithClient, waitUntil } from '../helpers/simulator';

/*
 * An EC2 runner booted for real, from what ships: the user data the EC2 host put on the instance (read back from EC2),
 * unmodified, run as cloud-init runs it (root, once) in an instance of the AMI the README documents (sim/ec2), with
 * the instance profile's credentials from its IMDSv2 metadata service, against the local AWS under enforced IAM and
 * the GitHub simulator: the runner must come online, take its job and finish it, and the instance power off.
 */

const config: PoolsConfig = testPoolsConfig({
  pools: [
    ...testPoolsInput().pools.filter((p) => p.host !== 'ec2'),
    {
      name: 'ec2-linux',
      host: 'ec2',
      os: 'linux',
      arch: 'x64',
      labels: ['vm'],
      maxRunners: 4,
      launchesPerMinute: 10,
      ec2: { instanceTypes: ['m7i.large'], image: { amiId: 'ami-0123456789abcdef0' } },
    },
  ],
});
const pool = config.pools.find((p) => p.name === 'ec2-linux')!;
type Jobs = { jobs: { id: number }[] };

describe('an EC2 instance boots from the shipped user data and runs a job', () => {
  const docker = new Docker();
  const admin = motoTarget();
  let iam: Awaited<ReturnType<typeof enforcedIam>>;
  let github: Awaited<ReturnType<typeof simulatorWithClient>>;
  let host: Ec2Host;

  beforeAll(async () => {
    await ensureSimAmiImage(docker);
    const { Images = [] } = await new EC2Client(admin.clientConfig).send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    iam = await enforcedIam({ pools: config, launchTemplateImage: () => Images[0]!.ImageId! });
    github = await simulatorWithClient({ timing: { assignDelayMs: 200, renewEveryMs: 500 } });
    host = ec2HostUnderIam(iam, 'ec2-linux');
  }, 600_000);
  afterAll(async () => {
    await github?.sim.stop();
    await iam?.stop();
  });

  /** Launches a runner for a queued job through the EC2 host; boots its instance with `userData` (default: what EC2 has). */
  async function launchAndBoot(runnerName: string, edit: (userData: string) => string = (u) => u, durationMs = 1_500) {
    const installationId = await github.client.installationId(ORG);
    const { jobs } = await simControl<Jobs>(github.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'vm'], durationMs }],
    });
    const jit = await github.client.generateJitConfig(installationId, ORG, { name: runnerName, labels: ['self-hosted', 'linux', 'x64', 'vm'] });
    const instance = await host.create({ runnerName, pool, jobId: jobs[0]!.id, encodedJitConfig: jit.encodedJitConfig });
    const session = iam.as('runner-instance', instance.id, { 'ec2:SourceInstanceARN': `arn:aws:ec2:${admin.region}:123456789012:instance/${instance.id}` });
    const booted = await bootLaunchedInstance(docker, instance.id, {
      roleName: `${iam.prefix}-runner-instance`,
      credentials: session.clientConfig.credentials,
      awsEndpoint: session.endpoint,
      editUserData: edit,
    });
    const job = () => github.sim.model.jobs.get(jobs[0]!.id)!;
    return { instance, booted, job, runnerId: jit.runnerId };
  }

  const exists = (name: string) =>
    new SSMClient(admin.clientConfig).send(new GetParameterCommand({ Name: name })).then(
      () => true,
      () => false,
    );

  it('reads its JIT config with the instance profile, starts the runner as `runner`, runs the job, powers off', async () => {
    const { booted, job } = await launchAndBoot('gha-ec2-linux-boot-1');

    const { output } = await booted.poweredOff;

    expect(job()).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'gha-ec2-linux-boot-1' });
    expect(output).toContain('√ Connected to GitHub as gha-ec2-linux-boot-1');
    expect(output).toContain('shutdown -h now: powering off');
    // The credentials came from the metadata service, IMDSv2 only: a token first, then the role's document.
    expect(booted.metadata.requests.filter((r) => r.status === 401)).toEqual([]);
    expect(booted.metadata.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'PUT /latest/api/token',
        'GET /latest/user-data',
        `GET /latest/meta-data/iam/security-credentials/${iam.prefix}-runner-instance`,
      ]),
    );
    expect(await exists(`${host.parameterPrefix('gha-ec2-linux-boot-1')}/0`)).toBe(false);
    expect(iam.proxy.denials()).toEqual([]);
  }, 180_000);

  it('with the old bootstrap (`./run.sh` as root) the runner refuses to start, as on a real instance, and the job waits', async () => {
    const asRoot = (userData: string) => userData.replace(/^export ACTIONS_RUNNER_INPUT_JITCONFIG=.*\nsudo .*$/m, './run.sh --jitconfig "$jit"');
    const { booted, job, runnerId } = await launchAndBoot('gha-ec2-linux-boot-2', asRoot);

    const { output } = await booted.poweredOff;

    expect(output).toContain('Must not run interactively with sudo');
    expect(job().status).toBe('queued');
    expect(github.sim.model.runners.get(runnerId)?.status).toBe('offline');
    await simControl(github.sim, 'POST', `/_sim/jobs/${job().id}/cancel`);
  }, 180_000);

  it('a killed instance (spot reclaim) leaves its job failed by GitHub once its renewals stop, its runner offline', async () => {
    await simControl(github.sim, 'PUT', '/_sim/timing', { offlineAfterMs: 1_000, jobLockMs: 2_000 });
    const { booted, job, runnerId } = await launchAndBoot('gha-ec2-linux-boot-3', (u) => u, 120_000);
    await waitUntil('the job running', () => job().status === 'in_progress', 60_000);

    await booted.kill();

    await waitUntil('the job failed', () => job().status === 'completed', 10_000);
    expect(job()).toMatchObject({ conclusion: 'failure', endedBy: 'lost-communication' });
    await waitUntil('the runner offline', () => github.sim.model.runners.get(runnerId)?.status === 'offline', 5_000);
  }, 180_000);
});
