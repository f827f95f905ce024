import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { Pool } from '@runners/shared';
import Docker from 'dockerode';
import { runnerPod } from '@runners/orchestrators/hosts';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { startDockerKubelet, type DockerKubelet } from '../helpers/docker-kubelet';
import { eksFixture } from '../helpers/eks';
import { testPoolsConfig } from '../helpers/pools';
import { ORG, simControl, simulatorWithClient, waitUntil } from '../helpers/simulator';

/*
 * The pod the EKS host builds, run with Kubernetes' semantics (tests/helpers/docker-kubelet.ts on Docker) on an
 * image shaped like ghcr.io/actions/actions-runner: it must start, resolve its JIT config from the Secret, run as
 * uid 1001 and finish a simulator job. The pod of before (arguments, no command) cannot start on that image.
 */

type EksPool = Extract<Pool, { host: 'eks' }>;
const basePool = testPoolsConfig().pools.find((p) => p.host === 'eks') as EksPool;
const pool: EksPool = {
  ...basePool,
  arch: process.arch === 'arm64' ? 'arm64' : 'x64',
  eks: { ...basePool.eks, image: SIM_RUNNER_IMAGE, memory: '512Mi', cpu: '500m' },
};

describe('an EKS runner pod boots and runs a job', () => {
  const docker = new Docker();
  let fixture: Awaited<ReturnType<typeof eksFixture>>;
  let kubelet: DockerKubelet;
  let github: Awaited<ReturnType<typeof simulatorWithClient>>;

  beforeAll(async () => {
    await ensureSimRunnerImage(docker);
    fixture = await eksFixture(['gha-runners']);
    kubelet = startDockerKubelet(docker, fixture.kubernetes);
    github = await simulatorWithClient({ timing: { assignDelayMs: 100 } });
  }, 300_000);
  afterAll(async () => {
    await kubelet?.stop();
    await fixture?.kubernetes.close();
    await github?.sim.stop();
  });

  async function queued(runnerName: string) {
    const installationId = await github.client.installationId(ORG);
    const jit = await github.client.generateJitConfig(installationId, ORG, { name: runnerName, labels: ['self-hosted', 'linux', 'x64', 'k8s'] });
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(github.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'k8s'], durationMs: 300 }],
    });
    return { ...jit, jobId: jobs[0]!.id, job: () => github.sim.model.jobs.get(jobs[0]!.id)! };
  }

  it('starts the runner with the pod’s command and the Secret’s config, as uid 1001, and completes the job', async () => {
    const { encodedJitConfig, jobId, job } = await queued('gha-eks-k8s-1-1');

    await fixture.host.create({ runnerName: 'gha-eks-k8s-1-1', pool, jobId, encodedJitConfig });
    await waitUntil('the pod done', () => ['Succeeded', 'Failed'].includes(kubelet.pod('gha-runners', 'gha-eks-k8s-1-1')?.phase ?? ''), 60_000);

    const run = kubelet.pod('gha-runners', 'gha-eks-k8s-1-1')!;
    expect(run).toMatchObject({ phase: 'Succeeded', exitCodes: { runner: 0 } });
    expect(run.logs.runner).toContain('√ Connected to GitHub as gha-eks-k8s-1-1');
    expect(job()).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'gha-eks-k8s-1-1' });
  }, 120_000);

  it('the pod of before — arguments and no command — cannot start on the official image’s shape', async () => {
    const { encodedJitConfig, jobId, job } = await queued('gha-eks-k8s-2-1');
    const spec = { runnerName: 'gha-eks-k8s-2-1', pool, jobId, encodedJitConfig };
    const pod: V1Pod = runnerPod(spec, fixture.managedBy);
    const container = pod.spec!.containers[0]!;
    delete container.command;
    container.args = ['--jitconfig', '$(ACTIONS_RUNNER_INPUT_JITCONFIG)'];
    const api = await fixture.api();
    await api.createNamespacedPod({ namespace: 'gha-runners', body: pod });
    await fixture.host.create(spec);

    await waitUntil('the pod failed', () => kubelet.pod('gha-runners', 'gha-eks-k8s-2-1')?.phase === 'Failed', 30_000);
    expect(kubelet.pod('gha-runners', 'gha-eks-k8s-2-1')).toMatchObject({
      reason: 'StartError',
      message: expect.stringMatching(/exec: "--jitconfig": executable file not found/),
    });
    expect(job().status).toBe('queued');
    await simControl(github.sim, 'POST', `/_sim/jobs/${jobId}/cancel`);
  }, 60_000);

  it('a pod for another architecture is never scheduled on this node', async () => {
    const other: EksPool = { ...pool, arch: pool.arch === 'arm64' ? 'x64' : 'arm64' };
    const { encodedJitConfig, jobId } = await queued('gha-eks-k8s-3-1');
    await fixture.host.create({ runnerName: 'gha-eks-k8s-3-1', pool: other, jobId, encodedJitConfig });

    await waitUntil('the pod seen', () => kubelet.pod('gha-runners', 'gha-eks-k8s-3-1') !== undefined, 10_000);
    expect(kubelet.pod('gha-runners', 'gha-eks-k8s-3-1')).toMatchObject({ phase: 'Pending', reason: 'Unschedulable' });
    await simControl(github.sim, 'POST', `/_sim/jobs/${jobId}/cancel`);
  }, 60_000);
});
