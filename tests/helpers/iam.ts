import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateLaunchTemplateCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { PoolsConfig } from '@runners/shared';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awsTarget, LOCAL_ACCOUNT_ID, type AwsTarget } from '../../local/aws-target';
import { startIamProxy, type IamProxy } from '../../local/iam/iam-proxy';
import { synthesizedPolicies, synthesizeStack, type PolicyDocument } from '../../local/iam/synthesized-policies';
import { provisionJobsTable, provisionKey } from '../../local/provision';
import { motoTarget } from './aws';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Integration tests under enforced IAM: the stacks synthesized for `pools` with a prefix of the test's own, their
 * Jobs table (and the EC2 pools' launch templates, as Terraform would create them) on the shared moto, and the IAM
 * proxy in front of it. `as(function)` is the emulator as that function's role sees it.
 */
export async function enforcedIam(options: {
  pools: PoolsConfig;
  launchTemplateImage?: (pool: string) => string;
  otherRoles?: Record<string, PolicyDocument[]>;
}) {
  const admin = motoTarget();
  const prefix = `iam-${randomUUID().slice(0, 8)}`;
  const tableName = `${prefix}-jobs`;
  await provisionJobsTable(admin, tableName);
  const { Table } = await new DynamoDBClient(admin.clientConfig).send(new DescribeTableCommand({ TableName: tableName }));
  const launchTemplateIds: Record<string, string> = {};
  for (const pool of options.pools.pools) {
    if (pool.host !== 'ec2') continue;
    const name = `${prefix}-${pool.name}`;
    const image = options.launchTemplateImage?.(pool.name) ?? ('amiId' in pool.ec2.image ? pool.ec2.image.amiId : `resolve:ssm:${pool.ec2.image.ssmParameter}`);
    const { LaunchTemplate } = await new EC2Client(admin.clientConfig).send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: { ImageId: image } }),
    );
    launchTemplateIds[name] = LaunchTemplate!.LaunchTemplateId!;
  }
  const secretsKey = await provisionKey(admin, `alias/${prefix}-secrets`);
  const messagesKey = await provisionKey(admin, `alias/${prefix}-messages`);
  // The emulator's default VPC stands for the user's own network: its subnets are the pools' subnets.
  const { Subnets = [] } = await new EC2Client(admin.clientConfig).send(new DescribeSubnetsCommand({}));
  const subnetIds = Subnets.slice(0, 2).map((s) => s.SubnetId!);
  const json = synthesizeStack({
    prefix,
    region: admin.region,
    pools: options.pools,
    bundleDir: resolve(root, 'dist'),
    network: { vpcId: Subnets[0]!.VpcId!, subnetIds },
  });
  const proxy: IamProxy = await startIamProxy({
    upstream: admin.endpoint,
    region: admin.region,
    accountId: LOCAL_ACCOUNT_ID,
    ...withOtherRoles(
      options.otherRoles ?? {},
      synthesizedPolicies(json, {
        accountId: LOCAL_ACCOUNT_ID,
        region: admin.region,
        streamArns: { [tableName]: Table!.LatestStreamArn! },
        launchTemplateIds,
        kmsKeyIds: { [`alias/${prefix}-secrets`]: secretsKey.keyId, [`alias/${prefix}-messages`]: messagesKey.keyId },
      }),
    ),
    adminCredentials: admin.clientConfig.credentials,
  });
  return {
    prefix,
    tableName,
    secretsKey,
    messagesKey,
    subnetIds,
    proxy,
    launchTemplateIds,
    as: (fn: string, session: string = fn, context?: Record<string, string>): AwsTarget =>
      awsTarget(proxy.endpoint, admin.region, proxy.credentialsFor({ name: fn, roleName: `${prefix}-${fn}`, session, ...(context ? { context } : {}) })),
    stop: () => proxy.stop(),
  };
}

/** Roles that are not the stack's (a pull-request plan role, an administrator), beside the synthesized ones. */
function withOtherRoles(others: Record<string, PolicyDocument[]>, synthesized: ReturnType<typeof synthesizedPolicies>) {
  return { ...synthesized, policies: (role: string) => others[role] ?? synthesized.policies(role) };
}
