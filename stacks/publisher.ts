import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Construct } from 'constructs';
import { TracedFunction } from './traced-function';

/*
 * The publisher: notified through the Publisher topic, and ticked every minute (what a lost notification or a
 * launch backoff waits for). Reserved concurrency 1: flow control is simplest when one round runs at a time, and
 * the optimistic lock on each pool's launch log makes a second one harmless anyway.
 */

export interface PublisherProps {
  readonly prefix: string;
  readonly tableArn: string;
  readonly tableName: string;
  readonly jobsTopicArn: string;
  readonly publisherTopicArn: string;
}

export class Publisher extends Construct {
  readonly function: TracedFunction;

  constructor(scope: Construct, id: string, props: PublisherProps) {
    super(scope, id);
    this.function = new TracedFunction(this, 'publisher', {
      functionName: `${props.prefix}-publisher`,
      service: 'publisher',
      description: 'flow control: capacity, fair share, launches and teardowns',
      code: { bundle: 'publisher' },
      timeoutSeconds: 60,
      reservedConcurrency: 1,
      environment: { JOBS_TABLE_NAME: props.tableName, JOBS_TOPIC_ARN: props.jobsTopicArn, PUBLISHER_TOPIC_ARN: props.publisherTopicArn },
      statements: [
        { sid: 'Jobs', actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], resources: [props.tableArn, `${props.tableArn}/index/*`] },
        // Warm pools: a queued warm slot no longer wanted is deleted (conditionally, only while queued).
        { sid: 'WarmSlots', actions: ['dynamodb:DeleteItem'], resources: [props.tableArn] },
        { sid: 'Dispatch', actions: ['sns:Publish'], resources: [props.jobsTopicArn, props.publisherTopicArn] },
      ],
    });
    const fn = this.function.function;
    new SnsTopicSubscription(this, 'notifications', { topicArn: props.publisherTopicArn, protocol: 'lambda', endpoint: fn.arn });
    new LambdaPermission(this, 'topic-invokes', { statementId: 'publisher-topic', action: 'lambda:InvokeFunction', functionName: fn.functionName, principal: 'sns.amazonaws.com', sourceArn: props.publisherTopicArn });
    this.function.onSchedule('publisher-tick', { ruleName: `${props.prefix}-publisher-tick`, scheduleExpression: 'rate(1 minute)', description: 'publisher round for backoffs and lost notifications' });
  }
}
