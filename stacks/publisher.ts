import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import type { MessagesKeyResource, TableResource, TopicResource } from '@runners/shared/deployment';
import { Construct } from 'constructs';
import { publisherContract } from '@runners/publisher/contract';
import { bindContract, TracedFunction } from './traced-function';

/*
 * The publisher: notified through the Publisher topic, and ticked every minute (what a lost notification or a
 * launch backoff waits for). Reserved concurrency 1: flow control is simplest when one round runs at a time, and
 * the optimistic lock on each pool's launch log makes a second one harmless anyway.
 */

export interface PublisherProps extends MessagesKeyResource {
  readonly prefix: string;
  readonly jobsTable: TableResource;
  readonly jobsTopic: TopicResource;
  readonly publisherTopic: TopicResource;
}

export class Publisher extends Construct {
  readonly function: TracedFunction;

  constructor(scope: Construct, id: string, props: PublisherProps) {
    super(scope, id);
    this.function = new TracedFunction(this, 'publisher', {
      prefix: props.prefix,
      code: { bundle: 'publisher' },
      reservedConcurrency: 1,
      deployment: bindContract(publisherContract, props),
    });
    const fn = this.function.function;
    new SnsTopicSubscription(this, 'notifications', { topicArn: props.publisherTopic.arn, protocol: 'lambda', endpoint: fn.arn });
    new LambdaPermission(this, 'topic-invokes', {
      statementId: 'publisher-topic',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'sns.amazonaws.com',
      sourceArn: props.publisherTopic.arn,
    });
  }
}
