import { DeleteTableCommand, GetItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { jobKey, type JobRecord } from '@runners/shared';
import { awsTarget, LOCAL_ACCOUNT_ID, type AwsTarget } from '../../local/aws-target';
import { startIamProxy } from '../../local/iam/iam-proxy';
import { provisionJobsTable } from '../../local/provision';

/** The moto server started by the integration project's global setup. */
export function motoTarget(): AwsTarget {
  const endpoint = process.env.MOTO_ENDPOINT;
  if (!endpoint) throw new Error('MOTO_ENDPOINT is not set: integration tests run under tests/helpers/moto-global-setup.ts');
  return awsTarget(endpoint);
}

/** A fresh Jobs table, provisioned exactly as the local stack provisions it. */
export async function createJobsTable(target: AwsTarget, prefix = 'jobs'): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await provisionJobsTable(target, name);
  return name;
}

export async function deleteTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
}

export async function scanTable(client: DynamoDBClient, tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
}

export async function getJob(client: DynamoDBClient, tableName: string, jobId: number): Promise<JobRecord | undefined> {
  const result = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: jobKey(jobId) } }, ConsistentRead: true }));
  return result.Item ? (unmarshall(result.Item) as JobRecord) : undefined;
}

let strict: Promise<AwsTarget> | undefined;
/**
 * The shared moto behind the IAM proxy with the deployer's key: no role is evaluated, but the service limits moto
 * lacks are enforced (local/iam/service-limits.ts), so a test cannot store what AWS would refuse. One per test file.
 */
export function strictMotoTarget(): Promise<AwsTarget> {
  strict ??= (async () => {
    const admin = motoTarget();
    // Unreferenced: it lives as long as the test file's process, without holding it open.
    const proxy = await startIamProxy({
      upstream: admin.endpoint,
      region: admin.region,
      accountId: LOCAL_ACCOUNT_ID,
      policies: () => undefined,
      adminCredentials: admin.clientConfig.credentials,
    });
    return awsTarget(proxy.endpoint, admin.region);
  })();
  return strict;
}
