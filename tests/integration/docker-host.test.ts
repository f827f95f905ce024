import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from '@runners/shared';
import Docker from 'dockerode';
import { DockerHost, dockerEngine, HostImageMismatchError } from '@runners/orchestrators/hosts';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { testPoolsConfig } from '../helpers/pools';
import { ORG, simulatorWithClient, waitUntil } from '../helpers/simulator';

/*
 * The Docker host refuses a pool whose arch its image cannot run on this engine, before any container exists; and it
 * never takes another installation's container (same engine, same runner name) for its own.
 */

describe('Docker host and the image architecture', () => {
  const docker = new Docker();
  beforeAll(async () => ensureSimRunnerImage(docker), 300_000);

  it('fails the create with a clear error when the image is for another architecture than the pool', async () => {
    const host = new DockerHost(dockerEngine(), 'arch-test');
    const native = process.arch === 'arm64' ? 'arm64' : 'x64';
    const pool = {
      ...testPoolsConfig().pools[0]!,
      arch: native === 'arm64' ? 'x64' : 'arm64',
      docker: { image: SIM_RUNNER_IMAGE, runScript: '/home/runner/run.sh' },
    } as Pool;

    await expect(host.create({ runnerName: 'gha-arch-1-1', pool, jobId: 1, encodedJitConfig: 'e30=' })).rejects.toThrow(HostImageMismatchError);
    await expect(host.create({ runnerName: 'gha-arch-1-1', pool, jobId: 1, encodedJitConfig: 'e30=' })).rejects.toThrow(
      /is built for (amd64|arm64).*exec format error/,
    );
    expect(await host.list()).toEqual([]);
  });

  it('keeps two installations on one engine apart: the same runner name in each is two containers, and removing one leaves the other', async () => {
    const native = process.arch === 'arm64' ? 'arm64' : 'x64';
    const pool = { ...testPoolsConfig().pools[0]!, arch: native, docker: { image: SIM_RUNNER_IMAGE, runScript: '/home/runner/run.sh' } } as Pool;
    // Two GitHubs (two simulators), one runner name registered on each: both runners stay up, polling for a job.
    // One after the other: two GitHubClients of two Apps asking at once in one process got each other's installation
    // token (a 401), to be looked into with several Apps per fleet (issue 16).
    const envs = [await simulatorWithClient(), await simulatorWithClient()];
    const jits: string[] = [];
    for (const { client } of envs)
      jits.push(
        (await client.generateJitConfig(await client.installationId(ORG), ORG, { name: 'gha-docker-linux-7-1', labels: ['self-hosted', 'docker'] }))
          .encodedJitConfig,
      );
    const [first, second] = [new DockerHost(dockerEngine(), 'ns-test-a'), new DockerHost(dockerEngine(), 'ns-test-b')];
    try {
      const a = await first.create({ runnerName: 'gha-docker-linux-7-1', pool, jobId: 7, encodedJitConfig: jits[0]! });
      const b = await second.create({ runnerName: 'gha-docker-linux-7-1', pool, jobId: 7, encodedJitConfig: jits[1]! });
      await waitUntil('both runners online', () => envs.every(({ sim }) => [...sim.model.runners.values()].some((r) => r.status === 'online')), 30_000);

      expect(a.id).not.toBe(b.id);
      expect(await second.delete('gha-docker-linux-7-1')).toBe('deleted');
      expect((await first.list()).map((h) => h.id)).toEqual([a.id]);
      expect(await second.list()).toEqual([]);
    } finally {
      await first.delete('gha-docker-linux-7-1');
      await second.delete('gha-docker-linux-7-1');
      await Promise.all(envs.map(({ sim }) => sim.stop()));
    }
  }, 60_000);
});
