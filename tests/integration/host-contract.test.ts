import { afterAll, describe, expect, it } from '@jest/globals';
import Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { DockerHost } from '../../functions/orchestrators/src/hosts/docker-host';
import type { Host } from '../../functions/orchestrators/src/hosts/host';
import { encodeJitConfig } from '../../sim/jit-config';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { lambdaTestPool, testPoolsConfig } from '../helpers/pools';
import { ec2Fixture } from '../helpers/ec2';
import { eksFixture } from '../helpers/eks';
import { lambdaFixture } from '../helpers/lambda';

/*
 * The host contract, as one suite every host kind must pass (describe.each over the kinds: Docker on a real dockerd,
 * EC2 on moto, EKS on the fake Kubernetes API, Lambda on moto Lambda + SSM).
 */

type Pool = ReturnType<typeof testPoolsConfig>['pools'][number];
const dockerPool = { ...testPoolsConfig().pools[0]!, docker: { image: SIM_RUNNER_IMAGE, cpus: 0.5, memoryMb: 256 } } as Pool;
const ec2Pool = testPoolsConfig().pools.find((p) => p.host === 'ec2')!;
const eksPool = testPoolsConfig().pools.find((p) => p.host === 'eks')!;
const lambdaPool = lambdaTestPool();
const docker = new Docker();
const hostKinds: [string, Pool, () => Promise<{ host: Host; close?: () => Promise<void> }>][] = [
  [
    'docker (real dockerd)',
    dockerPool,
    async () => {
      await ensureSimRunnerImage(docker);
      return { host: new DockerHost(docker, `contract-${randomUUID().slice(0, 8)}`) };
    },
  ],
  ['ec2 (moto EC2 + SSM)', ec2Pool, async () => ({ host: (await ec2Fixture()).host })],
  ['eks (fake Kubernetes API checked against the client models)', eksPool, async () => {
      const fixture = await eksFixture();
      return { host: fixture.host, close: () => fixture.kubernetes.close() };
    },
  ],
  ['lambda (moto Lambda + SSM)', lambdaPool, async () => ({ host: (await lambdaFixture()).host })],
];

describe.each(hostKinds)('host contract: %s', (_kind, pool, makeHost) => {
  const created: string[] = [];
  let host: Host;
  let close: (() => Promise<void>) | undefined;
  // A JIT config in GitHub's format and size for a runner GitHub does not know: it never connects; the host is what
  // matters. `minBytes` tries the larger configs GitHub issues (every host kind must carry 16 KB).
  const spec = (runnerName: string, minBytes = 0) => ({ runnerName, pool, jobId: 42, encodedJitConfig: encodeJitConfig({ url: 'http://127.0.0.1:9', runnerId: 1, runnerName, secret: 'x', runnerGroupId: 1 }, minBytes) });

  afterAll(async () => {
    for (const name of created) await host.delete(name);
    await close?.();
  });

  it('creates a host per runner, idempotently by runner name', async () => {
    ({ host, close } = await makeHost());
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

  it('deletes idempotently: absent counts as done', async () => {
    const name = `contract-${randomUUID().slice(0, 8)}`;
    await host.create(spec(name));

    expect(['deleted', 'absent']).toContain(await host.delete(name));
    expect(await host.delete(name)).toBe('absent');
    expect((await host.list()).map((h) => h.runnerName)).not.toContain(name);
  });
});
