import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { MessagesKeyResource, StreamTableResource, TopicResource } from '@runners/shared/deployment';
import { Construct } from 'constructs';
import { messengerContract } from '@runners/messenger/contract';
import { streamDeadLetters, streamMapping } from './stream-consumer';
import { bindContract, TracedFunction } from './traced-function';

/* Jobs table stream → messenger → one publisher notification per batch. */

export interface MessengerProps extends MessagesKeyResource {
  readonly prefix: string;
  readonly jobsTable: StreamTableResource;
  readonly publisherTopic: TopicResource;
}

export class Messenger extends Construct {
  readonly function: TracedFunction;
  /** Stream batches that failed every retry land here. */
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: MessengerProps) {
    super(scope, id);
    this.deadLetterQueue = streamDeadLetters(this, `${props.prefix}-messenger-dlq`);
    this.function = new TracedFunction(this, 'messenger', {
      prefix: props.prefix,
      code: { bundle: 'messenger' },
      deployment: bindContract(messengerContract, { ...props, deadLetterQueue: { arn: this.deadLetterQueue.arn } }),
    });
    streamMapping(this, this.function, { jobsTable: props.jobsTable, eventSources: messengerContract.eventSources, deadLetters: this.deadLetterQueue });
  }
}
