import { describe, expect, it } from '@jest/globals';
import { Testing } from 'cdktf';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { JOBS_TABLE } from '@runners/shared';
import { DEFAULT_LIMITS } from '@runners/orchestrators';
import { LAMBDA_RUNTIME } from '../../stacks/lambda-runtime';
import { RunnersStack } from '../../stacks/runners-stack';
import { jobsTableCreateInput } from '../../local/provision';
import { testPoolsConfig } from '../helpers/pools';

/** The synthesized Terraform JSON of the stack, parsed. */
function synth(): { resource: Record<string, Record<string, Record<string, unknown>>> } {
  const app = Testing.app();
  const stack = new RunnersStack(app, 'test', { prefix: 'er-test', region: 'eu-west-1', pools: testPoolsConfig() });
  return JSON.parse(Testing.synth(stack)) as { resource: Record<string, Record<string, Record<string, unknown>>> };
}

describe('RunnersStack synth', () => {
  it('declares the Jobs table with its stream, queue index, TTL, PITR and encryption', () => {
    const app = Testing.app();
    const stack = new RunnersStack(app, 'test', { prefix: 'er-test', region: 'eu-west-1', pools: testPoolsConfig() });

    // cdktf's matcher as a function: its jest adapter extends only the global expect, not @jest/globals'.
    const matches = Testing.toHaveResourceWithProperties(Testing.synth(stack), DynamodbTable.tfResourceType, {
      name: 'er-test-jobs',
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: 'pk',
      stream_enabled: true,
      stream_view_type: 'NEW_AND_OLD_IMAGES',
      ttl: { attribute_name: 'expiresAt', enabled: true },
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true },
      deletion_protection_enabled: true,
    });

    expect(matches).toBe(true);
  });

  it('deploys every zip function on the Lambda runtime the project runs and bundles for (.nvmrc)', () => {
    const functions = Object.values(synth().resource.aws_lambda_function!) as { runtime?: string; package_type?: string }[];
    const zipped = functions.filter((f) => f.package_type !== 'Image');
    expect(zipped.length).toBeGreaterThan(3);
    for (const fn of zipped) expect(fn.runtime).toBe(LAMBDA_RUNTIME);
  });

  it('synthesizes the same keys and indexes that the local stack provisions on moto', () => {
    const table = Object.values(synth().resource.aws_dynamodb_table!)[0] as {
      attribute: { name: string; type: string }[];
      hash_key: string;
      global_secondary_index: { name: string; hash_key: string; range_key: string; projection_type: string; non_key_attributes?: string[] }[];
      stream_view_type: string;
    };
    const local = jobsTableCreateInput('x');

    expect(table.attribute).toEqual(local.AttributeDefinitions!.map((a) => ({ name: a.AttributeName, type: a.AttributeType })));
    expect(table.hash_key).toBe(local.KeySchema![0]!.AttributeName);
    expect(table.global_secondary_index).toEqual(
      local.GlobalSecondaryIndexes!.map((index) => ({
        name: index.IndexName,
        hash_key: index.KeySchema![0]!.AttributeName,
        range_key: index.KeySchema![1]!.AttributeName,
        projection_type: index.Projection!.ProjectionType,
        ...(index.Projection!.NonKeyAttributes ? { non_key_attributes: index.Projection!.NonKeyAttributes } : {}),
      })),
    );
    expect(table.stream_view_type).toBe(local.StreamSpecification!.StreamViewType);
    expect(table.global_secondary_index.map((i) => i.name)).toContain(JOBS_TABLE.indexes.queuedByPool.name);
  });
});

describe('dispatch topology synth', () => {
  type Resources = Record<string, Record<string, Record<string, unknown>>>;
  const resources = (): Resources => synth().resource as Resources;

  it('has the Publisher and Jobs topics, traced', () => {
    const topics = Object.values(resources().aws_sns_topic!).filter((t) => !String(t.name).endsWith('-alarms'));

    expect(topics.map((t) => t.name).sort()).toEqual(['er-test-jobs', 'er-test-publisher']);
    expect(topics.every((t) => t.tracing_config === 'Active')).toBe(true);
  });

  it('has one queue + DLQ per pool, subscribed to the Jobs topic with a filter on its pool, raw delivery', () => {
    const r = resources();
    const queues = Object.values(r.aws_sqs_queue!)
      .map((q) => q.name as string)
      .filter((name) => name.includes('-pool-'))
      .sort();
    const subscriptions = Object.values(r.aws_sns_topic_subscription!).filter((s) => s.protocol === 'sqs');

    expect(queues).toEqual(['docker-linux', 'ec2-gpu', 'eks-k8s'].flatMap((p) => [`er-test-pool-${p}`, `er-test-pool-${p}-dlq`]).sort());
    const filters = subscriptions.map((s) => JSON.parse(s.filter_policy as string) as { pool: string[] });
    expect(filters.map((f) => f.pool).sort()).toEqual([['docker-linux'], ['ec2-gpu'], ['eks-k8s']]);
    expect(subscriptions.every((s) => s.raw_message_delivery === true && s.protocol === 'sqs' && s.filter_policy_scope === 'MessageAttributes')).toBe(true);
    const queue = Object.values(r.aws_sqs_queue!).find((q) => q.name === 'er-test-pool-docker-linux')!;
    expect(JSON.parse(queue.redrive_policy as string)).toMatchObject({ maxReceiveCount: 5 });
  });

  it('gives a pool queue six times its orchestrator’s timeout, and a launch claim outlives the orchestrator that made it', () => {
    const r = resources();
    const orchestrators = Object.values(r.aws_lambda_function!).filter((f) => String(f.function_name).startsWith('er-test-orchestrator-'));
    const queues = Object.values(r.aws_sqs_queue!).filter((q) => /-pool-[a-z0-9-]+$/.test(String(q.name)) && !String(q.name).endsWith('-dlq'));

    expect(orchestrators.length).toBeGreaterThan(0);
    for (const orchestrator of orchestrators) {
      const timeout = orchestrator.timeout as number;
      // AWS, Lambda with Amazon SQS: "at least six times the timeout that you configure on your function".
      for (const queue of queues) expect(queue.visibility_timeout_seconds).toBeGreaterThanOrEqual(6 * timeout);
      // A claim is taken over (its registration deleted) only once Lambda has stopped the attempt that made it.
      expect(DEFAULT_LIMITS.staleClaimMs).toBeGreaterThan(timeout * 1000);
    }
  });

  it('sends EC2’s spot interruption warnings and rebalance recommendations to the EC2 orchestrator, and only to it', () => {
    const r = resources();
    const rules = Object.values(r.aws_cloudwatch_event_rule!).filter((rule) => rule.event_pattern !== undefined);

    expect(rules.map((rule) => rule.name)).toEqual(['er-test-orchestrator-ec2-interruptions']);
    expect(JSON.parse(rules[0]!.event_pattern as string)).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'],
    });
    const permissions = Object.values(r.aws_lambda_permission!).filter((p) => p.statement_id === 'interruptions');
    expect(permissions).toEqual([expect.objectContaining({ principal: 'events.amazonaws.com', action: 'lambda:InvokeFunction' })]);
  });

  it('lets only the Jobs topic send to a pool queue', () => {
    const documents = Object.entries((synth() as unknown as { data: Resources }).data.aws_iam_policy_document!)
      .filter(([id]) => id.includes('queue-policy-document'))
      .map(([, document]) => document);

    expect(documents).toHaveLength(3);
    for (const document of documents) {
      expect(document.statement).toEqual([
        expect.objectContaining({ actions: ['sqs:SendMessage'], condition: [expect.objectContaining({ test: 'ArnEquals', variable: 'aws:SourceArn' })] }),
      ]);
    }
  });
});
