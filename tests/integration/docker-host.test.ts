import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from '@runners/shared';
import Docker from 'dockerode';
import { DockerHost, HostImageMismatchError } from '../../functions/orchestrators/src/hosts/docker-host';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { testPoolsConfig } from '../helpers/pools';

/* The Docker host refuses a pool whose arch its image cannot run on this engine, before any container exists. */

describe('Docker host and the image architecture', () => {
  const docker = new Docker();
  beforeAll(async () => ensureSimRunnerImage(docker), 300_000);

  it('fails the create with a clear error when the image is for another architecture than the pool', async () => {
    const host = new DockerHost(docker, 'arch-test');
    const native = process.arch === 'arm64' ? 'arm64' : 'x64';
    const pool = { ...testPoolsConfig().pools[0]!, arch: native === 'arm64' ? 'x64' : 'arm64', docker: { image: SIM_RUNNER_IMAGE, runScript: '/home/runner/run.sh' } } as Pool;

    await expect(host.create({ runnerName: 'gha-arch-1-1', pool, jobId: 1, encodedJitConfig: 'e30=' })).rejects.toThrow(HostImageMismatchError);
    await expect(host.create({ runnerName: 'gha-arch-1-1', pool, jobId: 1, encodedJitConfig: 'e30=' })).rejects.toThrow(/is built for (amd64|arm64).*exec format error/);
    expect(await host.list()).toEqual([]);
  });
});
