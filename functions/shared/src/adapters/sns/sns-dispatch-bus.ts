import { PublishBatchCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { StorageError } from '../../errors';
import type { DispatchBus } from '../../dispatch/dispatch-bus';
import {
  checkedMessage,
  hostMessageAttributes,
  hostMessageSchema,
  publisherNotificationSchema,
  type HostMessage,
  type PublisherNotification,
} from '../../dispatch/messages';

/** SNS PublishBatch takes at most 10 entries. */
const BATCH = 10;

export class SnsDispatchBus implements DispatchBus {
  constructor(
    private readonly client: SNSClient,
    /** `jobs` may be left out by a sender that only notifies the publisher (the messenger). */
    private readonly topics: { readonly jobs?: string; readonly publisher: string },
  ) {}

  async publishHostMessages<T extends HostMessage>(messages: readonly T[]): Promise<{ failed: T[] }> {
    if (messages.length > 0 && !this.topics.jobs) throw new Error('SnsDispatchBus: no Jobs topic to publish host messages to');
    const failed: T[] = [];
    for (let start = 0; start < messages.length; start += BATCH) {
      const batch = messages.slice(start, start + BATCH);
      try {
        const result = await this.client.send(
          new PublishBatchCommand({
            TopicArn: this.topics.jobs,
            PublishBatchRequestEntries: batch.map((message, i) => ({
              Id: String(i),
              Message: JSON.stringify(checkedMessage(hostMessageSchema, message)),
              // The per-pool subscriptions filter on these.
              MessageAttributes: Object.fromEntries(
                Object.entries(hostMessageAttributes(message)).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
              ),
            })),
          }),
        );
        for (const entry of result.Failed ?? []) failed.push(batch[Number(entry.Id)]!);
      } catch {
        failed.push(...batch);
      }
    }
    return { failed };
  }

  async notifyPublisher(notification: PublisherNotification): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({ TopicArn: this.topics.publisher, Message: JSON.stringify(checkedMessage(publisherNotificationSchema, notification)) }),
      );
    } catch (error) {
      throw new StorageError('notifying the publisher failed', { cause: error });
    }
  }
}
