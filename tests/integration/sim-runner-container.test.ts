import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Docker from 'dockerode';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { ORG, simControl, simulatorWithClient } from '../helpers/simulator';

/* The simulated runner as a container host starts the real one: image, `run.sh --jitconfig …`, real dockerd. */

describe('simulated runner container', () => {
  const docker = new Docker();
  let env: Awaited<ReturnType<typeof simulatorWithClient>>;

  beforeAll(async () => {
    await ensureSimRunnerImage(docker);
    env = await simulatorWithClient();
  }, 120_000);
  afterAll(async () => {
    await env.sim.stop();
  });

  it('registers with its JIT config, runs one job and exits 0', async () => {
    // Prepare
    const installationId = await env.client.installationId(ORG);
    const { runnerId, encodedJitConfig } = await env.client.generateJitConfig(installationId, ORG, { name: 'container-runner-1', labels: ['self-hosted', 'linux', 'x64', 'docker'] });
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(env.sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo: 'app', jobs: [{ labels: ['self-hosted', 'docker'], durationMs: 200 }] });

    // Act: the container reaches the simulator on 127.0.0.1 through the host network
    const container = await docker.createContainer({
      Image: SIM_RUNNER_IMAGE,
      Cmd: ['--jitconfig', encodedJitConfig],
      Labels: { 'ephemeral-runners.test': 'sim-runner-container' },
      HostConfig: { NetworkMode: 'host', AutoRemove: false },
    });
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    await container.remove({ force: true });

    // Assess
    expect(StatusCode).toBe(0);
    expect(logs).toContain('Connected to GitHub as container-runner-1');
    expect(env.sim.model.jobs.get(jobs[0]!.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'container-runner-1' });
    expect(await env.client.getRunner(installationId, ORG, runnerId)).toBeUndefined();
  }, 60_000);
});
