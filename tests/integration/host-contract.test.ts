import { afterAll, describe, expect, it } from '@jest/globals';
import Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { DockerHost, dockerEngine } from '@runners/orchestrators/hosts';
import type { Host, HostRef } from '@runners/orchestrators/hosts';
import { ensureSimAmiImage } from '../../sim/ec2/instance';
import { ensureSimRunnerLambdaImage, startExecutionEnvironment } from '../../sim/lambda/execution-environment';
import { encodeJitConfig } from '../../sim/jit-config';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { lambdaTestPool, testPoolsConfig } from '../helpers/pools';
import { motoTarget } from '../helpers/aws';
import { startDockerKubelet } from '../helpers/docker-kubelet';
import { bootLaunchedInstance, ec2Fixture } from '../helpers/ec2';
import { eksFixture } from '../helpers/eks';
import { lambdaFixture } from '../helpers/lambda';
import { ORG, simControl, simulatorWithClient, waitUntil } from '../helpers/simulator';

/*
 * The host contract, as one suite every host kind must pass (describe.each over the kinds: Docker on a real dockerd,
 * EC2 on moto, EKS on the fake Kubernetes API, Lambda on moto Lambda + SSM). "Boots and runs a job" then runs what the
 * host created, as the real platform would run it: the container as it is; the EC2 instance from its user data in an
 * instance of the documented AMI (sim/ec2); the pod with Kubernetes' semantics (docker-kubelet); the runner Lambda's
 * invocation in a Lambda execution environment (sim/lambda) — each against the GitHub simulator.
 */

type Pool = ReturnType<typeof testPoolsConfig>['pools'][number];
const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
const dockerPool = { ...testPoolsConfig().pools[0]!, docker: { image: SIM_RUNNER_IMAGE, runScript: '/home/runner/run.sh', cpus: 0.5, memoryMb: 256 } } as Pool;
const ec2Pool = testPoolsConfig().pools.find((p) => p.host === 'ec2')!;
const eksBase = testPoolsConfig().pools.find((p) => p.host === 'eks')!;
const eksPool = { ...eksBase, arch, eks: { ...eksBase.eks, image: SIM_RUNNER_IMAGE, memory: '512Mi', cpu: '500m' } } as Pool;
const lambdaPool = lambdaTestPool();
const docker = new Docker();

interface HostUnderTest {
  readonly host: Host;
  /** Runs what `create` made, as its platform would (nothing to do for Docker: the container is the platform). */
  readonly boot?: (ref: HostRef) => Promise<void>;
  readonly close?: () => Promise<void>;
}
const hostKinds: [string, Pool, () => Promise<HostUnderTest>][] = [
  [
    'docker (real dockerd)',
    dockerPool,
    async () => {
      await ensureSimRunnerImage(docker);
      return { host: new DockerHost(dockerEngine(), `contract-${randomUUID().slice(0, 8)}`) };
    },
  ],
  [
    'ec2 (moto EC2 + SSM; instances booted from their user data)',
    ec2Pool,
    async () => {
      await ensureSimAmiImage(docker);
      const moto = motoTarget();
      return {
        host: (await ec2Fixture()).host,
        boot: async (ref) =>
          void (await bootLaunchedInstance(docker, ref.id, {
            roleName: 'runner-instance',
            credentials: moto.clientConfig.credentials,
            awsEndpoint: moto.endpoint,
          })),
      };
    },
  ],
  [
    'eks (fake Kubernetes API checked against the client models; pods run by a kubelet on Docker)',
    eksPool,
    async () => {
      await ensureSimRunnerImage(docker);
      const fixture = await eksFixture();
      const kubelet = startDockerKubelet(docker, fixture.kubernetes);
      return { host: fixture.host, close: async () => (await kubelet.stop(), await fixture.kubernetes.close()) };
    },
  ],
  [
    'lambda (moto Lambda + SSM; invocations run in a Lambda execution environment)',
    lambdaPool,
    async () => {
      await ensureSimRunnerLambdaImage(docker);
      const fixture = await lambdaFixture();
      const environment = await startExecutionEnvironment(docker, { functionName: fixture.functionName });
      return {
        host: fixture.host,
        boot: async (ref) => void environment.invoke(fixture.invocations.find((i) => i.payload.runnerName === ref.runnerName)!.payload),
        close: () => environment.stop(),
      };
    },
  ],
];

describe.each(hostKinds)('host contract: %s', (_kind, pool, makeHost) => {
  const created: string[] = [];
  let host: Host;
  let boot: HostUnderTest['boot'];
  let close: (() => Promise<void>) | undefined;
  // A JIT config in GitHub's format and size for a runner GitHub does not know: it never connects; the host is what
  // matters. `minBytes` tries the larger configs GitHub issues (every host kind must carry 16 KB).
  const spec = (runnerName: string, minBytes = 0) => ({
    runnerName,
    pool,
    jobId: 42,
    encodedJitConfig: encodeJitConfig({ url: 'http://127.0.0.1:9', runnerId: 1, runnerName, secret: 'x', runnerGroupId: 1 }, minBytes),
  });

  afterAll(async () => {
    for (const name of created) await host.delete(name);
    await close?.();
  });

  it('creates a host per runner, idempotently by runner name', async () => {
    ({ host, close, boot } = await makeHost());
    const name = `contract-${randomUUID().slice(0, 8)}`;
    created.push(name);

    const first = await host.create(spec(name));
    const second = await host.create(spec(name));

    expect(second.id).toBe(first.id);
    expect(first).toMatchObject({ runnerName: name, pool: pool.name, jobId: 42 });
  });

  it('lists only the hosts carrying its own labels', async () => {
    const name = `contract-${randomUUID().slice(0, 8)}`;
    created.push(name);
    await host.create(spec(name));
    const listed = await host.list();

    expect(listed.map((h) => h.runnerName)).toContain(name);
    expect(listed.every((h) => h.pool === pool.name && h.runnerName.startsWith('contract-'))).toBe(true);
  });

  it.each([8 * 1024, 16 * 1024])('carries a JIT config of %i bytes', async (bytes) => {
    const name = `contract-${randomUUID().slice(0, 8)}`;
    created.push(name);

    const host_ = await host.create(spec(name, bytes));

    expect(spec(name, bytes).encodedJitConfig.length).toBeGreaterThanOrEqual(bytes);
    expect(host_).toMatchObject({ runnerName: name, pool: pool.name });
  });

  it('boots and runs a job: the runner comes online with its JIT config and completes a simulator job', async () => {
    const github = await simulatorWithClient({ timing: { assignDelayMs: 100 } });
    try {
      const installationId = await github.client.installationId(ORG);
      const name = `contract-${randomUUID().slice(0, 8)}`;
      created.push(name);
      const jit = await github.client.generateJitConfig(installationId, ORG, { name, labels: ['self-hosted', 'linux', 'contract'] });
      const { jobs } = await simControl<{ jobs: { id: number }[] }>(github.sim, 'POST', '/_sim/runs', {
        owner: 'octo-org',
        repo: 'app',
        jobs: [{ labels: ['self-hosted', 'contract'], durationMs: 300 }],
      });

      const ref = await host.create({ runnerName: name, pool, jobId: jobs[0]!.id, encodedJitConfig: jit.encodedJitConfig });
      await boot?.(ref);

      await waitUntil('the job completed', () => github.sim.model.jobs.get(jobs[0]!.id)!.status === 'completed', 90_000);
      expect(github.sim.model.jobs.get(jobs[0]!.id)).toMatchObject({ conclusion: 'success', runnerName: name, endedBy: 'runner' });
    } finally {
      await github.sim.stop();
    }
  }, 300_000);

  it('deletes idempotently: absent counts as done', async () => {
    const name = `contract-${randomUUID().slice(0, 8)}`;
    await host.create(spec(name));

    expect(['deleted', 'absent']).toContain(await host.delete(name));
    expect(await host.delete(name)).toBe('absent');
    expect((await host.list()).map((h) => h.runnerName)).not.toContain(name);
  });
});
