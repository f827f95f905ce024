import { describe, expect, it } from '@jest/globals';
import { GetParameterCommand, ListTagsForResourceCommand } from '@aws-sdk/client-ssm';
import { ec2Fixture } from '../helpers/ec2';
import { testPoolsConfig } from '../helpers/pools';

/* What the EC2 host asks of EC2 and SSM (moto), request by request. */

const ec2Pool = testPoolsConfig().pools.find((p) => p.host === 'ec2')!;
const pool = {
  ...ec2Pool,
  ec2: { ...(ec2Pool.host === 'ec2' ? ec2Pool.ec2 : ({} as never)), instanceTypes: ['g5.xlarge', 'g4dn.xlarge'], market: 'spot' as const },
} as typeof ec2Pool;
const spec = (runnerName: string) => ({ runnerName, pool, jobId: 7, encodedJitConfig: 'ENCODED-JIT', traceHeader: 'Root=1-abc' });

describe('EC2 host on moto', () => {
  it("launches from the pool's template (tags, IMDSv2, terminate on shutdown, spot), then stores the JIT config tagged with the instance", async () => {
    const { host, ssm, runs, launchTemplateId, subnets } = await ec2Fixture();

    const created = await host.create(spec('gha-ec2-gpu-7-1'));

    expect(created.id).toMatch(/^i-/);
    const parameter = await ssm.send(new GetParameterCommand({ Name: `${host.parameterPrefix('gha-ec2-gpu-7-1')}/0`, WithDecryption: true }));
    expect(parameter.Parameter).toMatchObject({ Value: 'ENCODED-JIT', Type: 'SecureString' });
    const { TagList } = await ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: `${host.parameterPrefix('gha-ec2-gpu-7-1')}/0` }),
    );
    expect(TagList).toEqual([{ Key: 'InstanceId', Value: created.id }]);
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run).toMatchObject({
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
      InstanceType: 'g5.xlarge',
      SubnetId: subnets[0],
      InstanceInitiatedShutdownBehavior: 'terminate',
      MetadataOptions: { HttpTokens: 'required' },
      InstanceMarketOptions: { MarketType: 'spot' },
    });
    const tags = Object.fromEntries(run.TagSpecifications![0]!.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      'ephemeral-runners.pool': 'ec2-gpu',
      'ephemeral-runners.runner': 'gha-ec2-gpu-7-1',
      'ephemeral-runners.job': '7',
      'ephemeral-runners.trace': 'Root=1-abc',
    });
    // The JIT config itself never rides in user data: only the parameters' names do.
    const userData = Buffer.from(run.UserData!, 'base64').toString();
    expect(userData).toContain(host.parameterPrefix('gha-ec2-gpu-7-1'));
    expect(userData).not.toContain('ENCODED-JIT');
  });

  it('tries every instance type and subnet on spot, then falls back to on-demand on capacity errors', async () => {
    const { host, runs } = await ec2Fixture({ failSpot: true });

    const created = await host.create(spec('gha-ec2-gpu-8-1'));

    expect(created.id).toMatch(/^i-/);
    expect(runs.map((r) => `${r.InstanceMarketOptions?.MarketType ?? 'on-demand'} ${r.InstanceType} ${r.SubnetId}`)).toHaveLength(5);
    expect(runs.slice(0, 4).every((r) => r.InstanceMarketOptions?.MarketType === 'spot')).toBe(true);
    expect(runs[4]!.InstanceMarketOptions).toBeUndefined();
  });

  it('deletes the instance and a JIT parameter its bootstrap never read', async () => {
    const { host, ssm } = await ec2Fixture();
    await host.create(spec('gha-ec2-gpu-9-1'));

    expect(await host.delete('gha-ec2-gpu-9-1')).toBe('deleted');

    await expect(ssm.send(new GetParameterCommand({ Name: `${host.parameterPrefix('gha-ec2-gpu-9-1')}/0` }))).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
    expect(await host.list()).toEqual([]);
  });

  it("puts macOS runners on dedicated hosts of the pool's host resource group, on-demand only", async () => {
    const { host, runs } = await ec2Fixture();
    const groupArn = 'arn:aws:resource-groups:us-east-1:123456789012:group/mac-hosts';
    const macPool = {
      ...pool,
      name: 'ec2-macos',
      os: 'macos',
      ec2: { ...(pool.host === 'ec2' ? pool.ec2 : ({} as never)), instanceTypes: ['mac2.metal'], market: 'spot', hostResourceGroupArn: groupArn },
    } as typeof pool;

    await host.create({ ...spec('gha-ec2-macos-11-1'), pool: macPool });

    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ InstanceType: 'mac2.metal', Placement: { Tenancy: 'host', HostResourceGroupArn: groupArn } });
    expect(runs[0]!.InstanceMarketOptions).toBeUndefined();
  });

  it('splits a JIT config over 4 KB into Standard parameters; a redelivered create stores it for the instance already there', async () => {
    const { host, ssm, runs } = await ec2Fixture();
    const large = 'A'.repeat(16 * 1024 + 10);

    const first = await host.create({ ...spec('gha-ec2-gpu-13-1'), encodedJitConfig: large });
    await host.create({ ...spec('gha-ec2-gpu-13-1'), encodedJitConfig: large });

    expect(runs).toHaveLength(1);
    const names = [0, 1, 2, 3, 4].map((i) => `${host.parameterPrefix('gha-ec2-gpu-13-1')}/${i}`);
    const values = await Promise.all(names.map(async (Name) => (await ssm.send(new GetParameterCommand({ Name, WithDecryption: true }))).Parameter!.Value!));
    expect(values.map((v) => v.length)).toEqual([4096, 4096, 4096, 4096, 10]);
    expect(values.join('')).toBe(large);
    expect(Buffer.from(runs[0]!.UserData!, 'base64').toString()).toContain('seq 0 $((5 - 1))');
    expect(first.id).toMatch(/^i-/);
  });

  it('refuses a JIT config that 10 parameters cannot hold, before launching anything', async () => {
    const { host, runs } = await ec2Fixture();

    await expect(host.create({ ...spec('gha-ec2-gpu-14-1'), encodedJitConfig: 'A'.repeat(41_000) })).rejects.toMatchObject({ name: 'JitConfigTooLargeError' });
    expect(runs).toHaveLength(0);
  });

  it('leaves Linux runners on shared tenancy', async () => {
    const { host, runs } = await ec2Fixture();
    await host.create(spec('gha-ec2-gpu-12-1'));
    expect(runs[0]!.Placement).toBeUndefined();
  });
});
