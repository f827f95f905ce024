import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { hostMessageSchema, parseMessage, type HostMessage, type LaunchMessage, type PoolsConfig, type TeardownMessage } from '@runners/shared';
import { DynamoDbDispatchStore } from '@runners/shared/dynamodb';
import { SnsDispatchBus } from '@runners/shared/sns';
import { randomUUID } from 'node:crypto';
import { createMessengerHandler } from '@runners/messenger';
import { DEFAULT_ROUND_LIMITS, type RoundLimits } from '@runners/publisher';
import { createPublisherHandler } from '@runners/publisher';
import { createStreamSource } from '../../local/event-sources/dynamodb-stream-source';
import type { EventSource } from '../../local/event-sources/event-source';
import { createSqsSource } from '../../local/event-sources/sqs-source';
import { lambdaContext } from '../../local/lambda-context.mjs';
import { provisionDispatchTopology, type ProvisionedTopology } from '../../local/provision';
import { dispatchTopology } from '../../stacks/dispatch-topology';
import { resourceNames } from '../../stacks/resource-names';
import { motoTarget } from './aws';
import { enforcedIam } from './iam';
import { quietPowertools } from './handler-ports';
import { producerHarness, TEST_SECRET } from './producer-harness';
import { examplePayload, signedDelivery } from './webhooks';

/*
 * Steps 1–7 of the data flow on moto, in this process: the real producer, messenger and publisher handlers (middy
 * stacks), wired by the local stack's event sources (stream → messenger, SNS via SQS → publisher). settle() drains
 * them until nothing moves, so a test sees the system at rest. Launch and teardown messages are read off the real
 * per-pool SQS queues (filter policies and all).
 */

export interface DispatchHarnessOptions {
  readonly config: PoolsConfig;
  readonly now?: () => Date;
  readonly limits?: Partial<RoundLimits>;
  /** Override the Jobs topic (e.g. a missing one, to make launch publishing fail). */
  readonly jobsTopicArn?: string;
  /** Actions a test means to be refused (a topic outside the publisher's role). */
  readonly expectDenied?: readonly string[];
}

export async function dispatchHarness(options: DispatchHarnessOptions) {
  const target = motoTarget();
  // Under enforced IAM: each handler's clients act as the role the stacks synthesize for it (tests/helpers/iam.ts).
  const iam = await enforcedIam({ pools: options.config });
  const { prefix, tableName } = iam;
  const topology: ProvisionedTopology = await provisionDispatchTopology(
    target,
    dispatchTopology(prefix, options.config),
    resourceNames(prefix).publisherInbox,
    iam.messagesKey.keyId,
  );
  const dynamodb = new DynamoDBClient(target.clientConfig);
  const sqs = new SQSClient(target.clientConfig);
  const producer = producerHarness({ target: iam.as('producer'), tableName, config: options.config });
  const asPublisher = iam.as('publisher');

  const messenger = createMessengerHandler({
    bus: new SnsDispatchBus(new SNSClient(iam.as('messenger').clientConfig), { publisher: topology.publisherTopicArn }),
    traceHeader: () => undefined,
    ...quietPowertools('messenger'),
  });
  const publisher = createPublisherHandler({
    config: options.config,
    store: new DynamoDbDispatchStore(new DynamoDBClient(asPublisher.clientConfig), tableName),
    bus: new SnsDispatchBus(new SNSClient(asPublisher.clientConfig), {
      jobs: options.jobsTopicArn ?? topology.jobsTopicArn,
      publisher: topology.publisherTopicArn,
    }),
    now: options.now ?? (() => new Date()),
    traceHeader: () => 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
    limits: { ...DEFAULT_ROUND_LIMITS, ...options.limits },
    ...quietPowertools('publisher'),
  });

  const invocations = { messenger: 0, publisher: 0 };
  const invokePublisher = (event: unknown) => {
    invocations.publisher++;
    return publisher(event, lambdaContext('publisher'));
  };
  const stream: EventSource = await createStreamSource({
    target,
    reader: iam.as('messenger'),
    tableName,
    startingPosition: 'TRIM_HORIZON',
    invoke: (event) => {
      invocations.messenger++;
      return messenger(event as never, lambdaContext('messenger'));
    },
  });
  const inbox = createSqsSource({ target, queueUrl: topology.publisherInbox.url, queueArn: topology.publisherInbox.arn, mode: 'sns', invoke: invokePublisher });

  const received = new Map<string, HostMessage[]>(topology.poolQueues.map((q) => [q.pool, []]));

  /** Reads (and deletes) everything on every pool queue into `received`. */
  const collect = async () => {
    for (const queue of topology.poolQueues) {
      for (;;) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
        if (Messages.length === 0) break;
        for (const message of Messages) {
          const parsed = parseMessage(hostMessageSchema, message.Body!);
          // The attributes the filter policy routed on must agree with the body.
          if (message.MessageAttributes?.pool?.StringValue !== parsed.pool)
            throw new Error(`message for ${parsed.pool} carried pool attribute ${message.MessageAttributes?.pool?.StringValue}`);
          received.get(queue.pool)!.push(parsed);
        }
        await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
        );
      }
    }
  };

  return {
    target,
    iam,
    tableName,
    topology,
    dynamodb,
    producer,
    invocations,
    received,
    /** Invoke the publisher directly, as the scheduled tick does. */
    tick: () => invokePublisher({ source: 'aws.events', 'detail-type': 'Scheduled Event', id: randomUUID(), detail: {} }),
    invokePublisher,
    /** Drain stream → messenger → SNS → publisher until nothing moves; then collect the pool queues. */
    async settle(): Promise<void> {
      for (let round = 0; round < 1_000; round++) {
        const moved = (await stream.drain()) + (await inbox.drain());
        if (moved === 0) break;
      }
      await collect();
    },
    /** A signed workflow_job delivery through the producer handler; asserts it was accepted. */
    async deliver(action: string, jobId: number, extra: Parameters<typeof examplePayload>[1] = {}): Promise<void> {
      const response = await producer.invoke(signedDelivery(TEST_SECRET, examplePayload(action, { jobId, ...extra })));
      if (response.statusCode !== 202) throw new Error(`producer answered ${response.statusCode}: ${response.body}`);
    },
    launches: (pool: string) => received.get(pool)!.filter((m): m is LaunchMessage => m.action === 'launch'),
    teardowns: (pool: string) => received.get(pool)!.filter((m): m is TeardownMessage => m.action === 'teardown'),
    async close() {
      await stream.stop();
      await inbox.stop();
      await iam.stop();
      // A call the synthesized roles refuse is a bug that AWS would show; a test that means one says so.
      const denials = iam.proxy.denials().filter((d) => !options.expectDenied?.includes(d.action));
      if (denials.length > 0) throw new Error(`calls the synthesized roles refuse: ${JSON.stringify(denials)}`);
      if (iam.proxy.evaluated() === 0) throw new Error('no AWS call was evaluated: the handlers did not go through the IAM proxy');
    },
  };
}

export type DispatchHarness = Awaited<ReturnType<typeof dispatchHarness>>;
