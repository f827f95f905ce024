import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { AwsTarget } from '../aws-target';
import { pollingLoop, type EventSource, type Invoke } from './event-source';

/*
 * Lambda's SQS event source mapping, on moto. `sqs`: batches of up to `batchSize` messages in the SQS event shape;
 * messages are deleted on success, kept (to reappear after the visibility timeout) on an error, and only the
 * `batchItemFailures` kept on a partial failure. `sns`: the queue is subscribed to an SNS topic, and each message is
 * delivered as Lambda delivers an SNS notification, one record per invocation.
 */

export interface SqsSourceOptions {
  readonly target: AwsTarget;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly invoke: Invoke;
  readonly mode: 'sqs' | 'sns';
  readonly batchSize?: number;
  readonly idleMs?: number;
  readonly onError?: (error: unknown) => void;
}

export function createSqsSource(options: SqsSourceOptions): EventSource {
  const { target, queueUrl, queueArn, invoke, mode } = options;
  const batchSize = options.batchSize ?? 10;
  const onError = options.onError ?? ((error) => console.error(`[sqs ${queueUrl}]`, error));
  const sqs = new SQSClient(target.clientConfig);

  const sqsRecord = (message: Message) => ({
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: message.Attributes ?? {},
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { stringValue: value.StringValue, binaryValue: value.BinaryValue, stringListValues: [], binaryListValues: [], dataType: value.DataType },
      ]),
    ),
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: target.region,
  });

  const snsEvent = (message: Message) => {
    const envelope = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;
    return {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: `${String(envelope.TopicArn)}:local`,
          Sns: { SignatureVersion: '1', Signature: '', SigningCertUrl: '', UnsubscribeUrl: '', MessageAttributes: {}, Subject: null, ...envelope },
        },
      ],
    };
  };

  const deliver = async (messages: Message[]): Promise<Message[]> => {
    if (mode === 'sns') {
      const done: Message[] = [];
      for (const message of messages) {
        try {
          await invoke(snsEvent(message));
          done.push(message);
        } catch (error) {
          onError(error); // stays in the queue: redelivered after the visibility timeout, as Lambda retries
        }
      }
      return done;
    }
    try {
      const result = (await invoke({ Records: messages.map(sqsRecord) })) as { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
      const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      return messages.filter((m) => !failed.has(m.MessageId!));
    } catch (error) {
      onError(error);
      return [];
    }
  };

  const pollOnce = async (waitSeconds: number): Promise<number> => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: waitSeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return 0;
    const done = await deliver(Messages);
    if (done.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
    }
    return Messages.length;
  };
  const loop = pollingLoop(() => pollOnce(1), options.idleMs ?? 50, onError);

  return {
    name: `sqs:${queueUrl}`,
    async drain() {
      let total = 0;
      for (let n = await pollOnce(0); n > 0; n = await pollOnce(0)) total += n;
      return total;
    },
    start: loop.start,
    async stop() {
      await loop.stop();
      sqs.destroy();
    },
  };
}
