import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateLaunchTemplateCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { PoolsConfig } from '@runners/shared';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awsTarget, LOCAL_ACCOUNT_ID, type AwsTarget } from '../../local/aws-target';
import { startIamProxy, type IamProxy } from '../../local/iam/iam-proxy';
import { synthesizedPolicies, synthesizeStack } from '../../local/iam/synthesized-policies';
import { provisionJobsTable, provisionSecretsKey } from '../../local/provision';
import { motoTarget } from './aws';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Integration tests under enforced IAM: the stacks synthesized for `pools` with a prefix of the test's own, their
 * Jobs table (and the EC2 pools' launch templates, as Terraform would create them) on the shared moto, and the IAM
 * proxy in front of it. `as(function)` is the emulator as that function's role sees it.
 */
export async function enforcedIam(options: { pools: PoolsConfig; launchTemplateImage?: (pool: string) => string }) {
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
    const { LaunchTemplate } = await new EC2Client(admin.clientConfig).send(new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: { ImageId: image } }));
    launchTemplateIds[name] = LaunchTemplate!.LaunchTemplateId!;
  }
  const secretsKey = await provisionSecretsKey(admin, `alias/${prefix}-secrets`);
  const json = synthesizeStack({ prefix, region: admin.region, pools: options.pools, bundleDir: resolve(root, 'dist') });
  const proxy: IamProxy = await startIamProxy({
    upstream: admin.endpoint,
    region: admin.region,
    accountId: LOCAL_ACCOUNT_ID,
    ...synthesizedPolicies(json, { accountId: LOCAL_ACCOUNT_ID, region: admin.region, streamArns: { [tableName]: Table!.LatestStreamArn! }, launchTemplateIds, kmsKeyIds: { [`alias/${prefix}-secrets`]: secretsKey.keyId } }),
    adminCredentials: admin.clientConfig.credentials,
  });
  return {
    prefix,
    tableName,
    secretsKey,
    proxy,
    launchTemplateIds,
    as: (fn: string, session: string = fn, context?: Record<string, string>): AwsTarget =>
      awsTarget(proxy.endpoint, admin.region, proxy.credentialsFor({ name: fn, roleName: `${prefix}-${fn}`, session, ...(context ? { context } : {}) })),
    stop: () => proxy.stop(),
  };
}
