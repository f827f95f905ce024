import type { PoolsConfig } from '@runners/shared';
import { ORCHESTRATOR_TIMEOUT_SECONDS } from '@runners/orchestrators/contract';
import { resourceNames } from './resource-names';

/*
 * The dispatch topology as plain data: the Publisher topic, the Jobs topic, and per pool one SQS queue (+ DLQ)
 * subscribed to the Jobs topic with a filter policy on the `pool` message attribute, raw delivery. The stacks and the
 * local stack both build from this, so they cannot disagree on a name or a filter.
 */

/** Receives before a message moves to the pool's DLQ: a launch the orchestrator failed this often needs a person. */
export const MAX_RECEIVES = 5;
/** Orchestrator timeout × 6, as AWS recommends for an SQS event source (see ORCHESTRATOR_TIMEOUT_SECONDS). */
export const POOL_QUEUE_VISIBILITY_SECONDS = 6 * ORCHESTRATOR_TIMEOUT_SECONDS;
/** Long enough for a person to look at a dead message. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

export interface PoolQueue {
  readonly pool: string;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** SNS filter policy (scope: message attributes). */
  readonly filterPolicy: Record<string, string[]>;
}

export interface DispatchTopology {
  readonly publisherTopicName: string;
  readonly jobsTopicName: string;
  readonly poolQueues: readonly PoolQueue[];
}

export function dispatchTopology(prefix: string, config: Pick<PoolsConfig, 'pools'>): DispatchTopology {
  const names = resourceNames(prefix);
  return {
    publisherTopicName: names.publisherTopic,
    jobsTopicName: names.jobsTopic,
    poolQueues: config.pools.map((pool) => ({
      pool: pool.name,
      queueName: names.poolQueue(pool.name),
      deadLetterQueueName: names.poolDeadLetterQueue(pool.name),
      filterPolicy: { pool: [pool.name] },
    })),
  };
}
