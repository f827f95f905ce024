import { describe, expect, it } from '@jest/globals';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { ec2Fixture } from '../helpers/ec2';
import { testPoolsConfig } from '../helpers/pools';

/* What the EC2 host asks of EC2 and SSM (moto), request by request. */

const ec2Pool = testPoolsConfig().pools.find((p) => p.host === 'ec2')!;
const pool = { ...ec2Pool, ec2: { ...(ec2Pool.host === 'ec2' ? ec2Pool.ec2 : ({} as never)), instanceTypes: ['g5.xlarge', 'g4dn.xlarge'], market: 'spot' as const } } as typeof ec2Pool;
const spec = (runnerName: string) => ({ runnerName, pool, jobId: 7, encodedJitConfig: 'ENCODED-JIT', traceHeader: 'Root=1-abc' });

describe('EC2 host on moto', () => {
  it('stores the JIT config as a SecureString and launches from the pool\'s template: tags, IMDSv2, terminate on shutdown, spot', async () => {
    const { host, ssm, runs, launchTemplateId, subnets } = await ec2Fixture();

    const created = await host.create(spec('gha-ec2-gpu-7-1'));

    expect(created.id).toMatch(/^i-/);
    const parameter = await ssm.send(new GetParameterCommand({ Name: host.parameterName('gha-ec2-gpu-7-1'), WithDecryption: true }));
    expect(parameter.Parameter).toMatchObject({ Value: 'ENCODED-JIT', Type: 'SecureString' });
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
    expect(tags).toMatchObject({ 'ephemeral-runners.pool': 'ec2-gpu', 'ephemeral-runners.runner': 'gha-ec2-gpu-7-1', 'ephemeral-runners.job': '7', 'ephemeral-runners.trace': 'Root=1-abc' });
    // The JIT config itself never rides in user data: only the parameter's name does.
    const userData = Buffer.from(run.UserData!, 'base64').toString();
    expect(userData).toContain(host.parameterName('gha-ec2-gpu-7-1'));
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

    await expect(ssm.send(new GetParameterCommand({ Name: host.parameterName('gha-ec2-gpu-9-1') }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    expect(await host.list()).toEqual([]);
  });

  it('puts macOS runners on dedicated hosts of the pool\'s host resource group, on-demand only', async () => {
    const { host, runs } = await ec2Fixture();
    const groupArn = 'arn:aws:resource-groups:us-east-1:123456789012:group/mac-hosts';
    const macPool = { ...pool, name: 'ec2-macos', os: 'macos', ec2: { ...(pool.host === 'ec2' ? pool.ec2 : ({} as never)), instanceTypes: ['mac2.metal'], market: 'spot', hostResourceGroupArn: groupArn } } as typeof pool;

    await host.create({ ...spec('gha-ec2-macos-11-1'), pool: macPool });

    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ InstanceType: 'mac2.metal', Placement: { Tenancy: 'host', HostResourceGroupArn: groupArn } });
    expect(runs[0]!.InstanceMarketOptions).toBeUndefined();
  });

  it('leaves Linux runners on shared tenancy', async () => {
    const { host, runs } = await ec2Fixture();
    await host.create(spec('gha-ec2-gpu-12-1'));
    expect(runs[0]!.Placement).toBeUndefined();
  });
});
