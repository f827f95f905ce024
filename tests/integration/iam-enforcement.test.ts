import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteParameterCommand, DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { PoolsConfig } from '@runners/shared';
import type { Permission } from '@runners/shared/deployment';
import { orchestratorContracts } from '@runners/orchestrators/contract';
import { ec2HostUnderIam } from '../helpers/ec2';
import { motoTarget } from '../helpers/aws';
import { enforcedIam } from '../helpers/iam';
import { lambdaTestPool, testPoolsConfig, testPoolsInput } from '../helpers/pools';

/*
 * The synthesized roles, enforced on the shared moto: calls each function's code makes are allowed, and what its
 * role does not grant is refused with the error the SDK raises on AWS (error names and HTTP status per service).
 */

const AMI_PARAMETER = '/iam-test/runner-ami';
const config: PoolsConfig = testPoolsConfig({
  pools: [
    ...testPoolsInput().pools.filter((p) => p.host !== 'ec2'),
    {
      name: 'ec2-ssm',
      host: 'ec2',
      os: 'linux',
      arch: 'x64',
      labels: ['ssm'],
      maxRunners: 2,
      launchesPerMinute: 5,
      ec2: { instanceTypes: ['m7g.large'], image: { ssmParameter: AMI_PARAMETER } },
    },
    lambdaTestPool(),
  ],
});
const pool = config.pools.find((p) => p.name === 'ec2-ssm')!;
/** A pull-request plan role that reads anything, KMS included (worse than ReadOnlyAccess, which has no kms:Decrypt). */
const PLAN_ROLE = 'pr-plan';
const readsEverything = {
  Version: '2012-10-17' as const,
  Statement: [{ Effect: 'Allow' as const, Action: ['ssm:Get*', 'ssm:Describe*', 'kms:Decrypt', 'kms:Describe*'], Resource: ['*'] }],
};
const spec = (runnerName: string) => ({ runnerName, pool, jobId: 9, encodedJitConfig: 'ENCODED-JIT' });

describe('synthesized roles, enforced', () => {
  let iam: Awaited<ReturnType<typeof enforcedIam>>;
  const admin = motoTarget();

  beforeAll(async () => {
    const { Images = [] } = await new EC2Client(admin.clientConfig).send(new DescribeImagesCommand({}));
    await new SSMClient(admin.clientConfig).send(new PutParameterCommand({ Name: AMI_PARAMETER, Value: Images[0]!.ImageId!, Type: 'String', Overwrite: true }));
    iam = await enforcedIam({ pools: config, otherRoles: { [PLAN_ROLE]: [readsEverything] } });
  });
  afterAll(async () => {
    await iam.stop();
  });

  const ec2Host = () => ec2HostUnderIam(iam, 'ec2-ssm');

  it('lets the EC2 orchestrator launch from a resolve:ssm launch template, which needs ssm:GetParameters on the AMI parameter', async () => {
    const created = await ec2Host().create(spec('gha-ec2-ssm-9-1'));

    expect(created.id).toMatch(/^i-/);
    expect(iam.proxy.denials()).toEqual([]);
  });

  it('refuses the same launch when the contract loses that statement: UnauthorizedOperation, no instance', async () => {
    const permissions = orchestratorContracts.ec2.permissions;
    (orchestratorContracts.ec2 as { permissions: typeof permissions }).permissions = (r) => permissions(r).filter((s: Permission) => s.sid !== 'ResolveImages');
    const without = await enforcedIam({ pools: config });
    (orchestratorContracts.ec2 as { permissions: typeof permissions }).permissions = permissions;
    try {
      const target = without.as('orchestrator-ec2');
      const run = new EC2Client(target.clientConfig).send(
        new RunInstancesCommand({
          MinCount: 1,
          MaxCount: 1,
          LaunchTemplate: { LaunchTemplateId: without.launchTemplateIds[`${without.prefix}-ec2-ssm`]!, Version: '$Latest' },
        }),
      );

      await expect(run).rejects.toMatchObject({ name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });
      expect(without.proxy.denials()).toEqual([
        expect.objectContaining({ principal: 'orchestrator-ec2', action: 'ssm:GetParameters', resource: expect.stringContaining(`parameter${AMI_PARAMETER}`) }),
      ]);
    } finally {
      await without.stop();
    }
  });

  it('refuses the EC2 orchestrator an instance without its managed-by tag (one it could not terminate)', async () => {
    const target = iam.as('orchestrator-ec2');
    const untagged = new EC2Client(target.clientConfig).send(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        SubnetId: iam.subnetIds[0],
        LaunchTemplate: { LaunchTemplateId: iam.launchTemplateIds[`${iam.prefix}-ec2-ssm`]!, Version: '$Latest' },
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'not ours' }] }],
      }),
    );

    await expect(untagged).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    expect(iam.proxy.denials().at(-1)).toMatchObject({ action: 'ec2:RunInstances', resource: expect.stringMatching(/:instance\/\*$/) });
  });

  it('lets the EC2 orchestrator terminate only instances carrying its managed-by tag', async () => {
    const ec2 = new EC2Client(admin.clientConfig);
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({}));
    const { Instances = [] } = await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, ImageId: Images[0]!.ImageId! }));

    const terminate = new EC2Client(iam.as('orchestrator-ec2').clientConfig).send(new TerminateInstancesCommand({ InstanceIds: [Instances[0]!.InstanceId!] }));

    await expect(terminate).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    expect(iam.proxy.denials().at(-1)).toMatchObject({ action: 'ec2:TerminateInstances' });
  });

  it('gives the runner Lambda no access to any JIT config or marker: a job holding its credentials can read, list or delete none', async () => {
    const ec2 = ec2Host();
    await ec2.create(spec('gha-ec2-ssm-9-2'));
    const ssm = new SSMClient(iam.as(`runner-${lambdaTestPool().name}`).clientConfig);

    await expect(ssm.send(new GetParameterCommand({ Name: `${ec2.parameterPrefix('gha-ec2-ssm-9-2')}/0`, WithDecryption: true }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(ssm.send(new GetParameterCommand({ Name: `/${iam.prefix}/lambda-runners/gha-lambda-short-1-1` }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(ssm.send(new DescribeParametersCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(ssm.send(new DeleteParameterCommand({ Name: `${ec2.parameterPrefix('gha-ec2-ssm-9-2')}/0` }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('lets only the roles that read the GitHub App secrets decrypt them: a plan role allowed kms:Decrypt everywhere still cannot', async () => {
    const name = `/${iam.prefix}/github/private-key`;
    await new SSMClient(admin.clientConfig).send(
      new PutParameterCommand({ Name: name, Value: 'PEM', Type: 'SecureString', KeyId: `alias/${iam.prefix}-secrets`, Overwrite: true }),
    );
    const plan = new SSMClient({
      ...admin.clientConfig,
      endpoint: iam.proxy.endpoint,
      credentials: iam.proxy.credentialsFor({ name: PLAN_ROLE, roleName: PLAN_ROLE, session: 'github-actions' }),
    });

    const read = await new SSMClient(iam.as('orchestrator-ec2').clientConfig).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const refused = plan.send(new GetParameterCommand({ Name: name, WithDecryption: true }));

    expect(read.Parameter?.Value).toBe('PEM');
    await expect(refused).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(iam.proxy.denials().at(-1)).toMatchObject({ principal: PLAN_ROLE, action: 'kms:Decrypt', reason: expect.stringMatching(/explicit deny/) });
    // Without decryption the plan role sees that the parameter exists, not its value.
    expect((await plan.send(new GetParameterCommand({ Name: name }))).Parameter?.Value).not.toBe('PEM');
  });

  it("refuses a function another function's secret and table access it has no statement for, as each service answers", async () => {
    const producer = iam.as('producer');
    const secret = () =>
      new SSMClient(producer.clientConfig).send(new GetParameterCommand({ Name: `/${iam.prefix}/github/private-key`, WithDecryption: true }));
    const read = () => new DynamoDBClient(producer.clientConfig).send(new GetItemCommand({ TableName: iam.tableName, Key: { pk: { S: 'JOB#1' } } }));
    const publish = () =>
      new SNSClient(producer.clientConfig).send(new PublishCommand({ TopicArn: `arn:aws:sns:${admin.region}:123456789012:${iam.prefix}-jobs`, Message: 'x' }));

    await expect(secret()).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    await expect(read()).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    await expect(publish()).rejects.toMatchObject({ name: 'AuthorizationErrorException', $metadata: { httpStatusCode: 403 } });
    expect(
      iam.proxy
        .denials()
        .slice(-3)
        .map((d) => d.action)
        .sort(),
    ).toEqual(['dynamodb:GetItem', 'sns:Publish', 'ssm:GetParameter']);
  });
});
