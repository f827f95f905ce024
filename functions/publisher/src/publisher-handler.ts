import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { parseMessage, PayloadError, publisherNotificationSchema } from '@runners/shared';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { publishRound, type PoolRound, type PublisherPorts } from './publish-round';

export interface PublisherHandlerPorts extends PublisherPorts {
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

const snsEventSchema = z.object({
  Records: z.array(z.object({ Sns: z.object({ Message: z.string(), MessageId: z.string().optional() }) })).min(1),
});
const scheduledEventSchema = z.object({ source: z.literal('aws.events'), 'detail-type': z.string() });

/** What an invocation is about: the pools the notifications name and those with a finished job; every pool for the tick. */
function workOf(event: unknown, logger: Logger): { pools: string[]; finished?: Set<string> } | undefined | 'nothing' {
  if (scheduledEventSchema.safeParse(event).success) return undefined;
  const sns = snsEventSchema.safeParse(event);
  if (!sns.success) {
    logger.error('ignoring an event that is neither an SNS notification nor a scheduled tick');
    return 'nothing';
  }
  const pools = new Set<string>();
  // A notification without the list (the publisher's own) has every one of its pools read the finished index.
  let finished: Set<string> | undefined = new Set<string>();
  for (const record of sns.data.Records) {
    try {
      const notification = parseMessage(publisherNotificationSchema, record.Sns.Message);
      for (const pool of notification.pools) pools.add(pool);
      if (notification.finished === undefined) finished = undefined;
      else for (const pool of notification.finished) finished?.add(pool);
    } catch (error) {
      // A malformed notification is a bug in its sender; retrying it would fail the same way. The tick covers it.
      if (!(error instanceof PayloadError)) throw error;
      logger.error('ignoring a malformed notification', { messageId: record.Sns.MessageId, issues: error.issues });
    }
  }
  return { pools: [...pools], ...(finished ? { finished } : {}) };
}

/** The publisher: SNS notifications (from the messenger, or itself) and a scheduled tick → one publish round. */
export function createPublisherHandler(ports: PublisherHandlerPorts) {
  const { logger, tracer, metrics } = ports;

  const publish = async (event: unknown) => {
    const work = workOf(event, logger);
    if (work === 'nothing') return { pools: [] as PoolRound[], renotified: [] as string[] };
    const pools = work?.pools;
    const result = await publishRound(pools, ports, work?.finished);
    for (const round of result.pools) record(round, ports);
    logger.info('publish round', {
      trigger: pools === undefined ? 'tick' : 'notification',
      pools: result.pools.map(({ dispatchDelays: _delays, ...summary }) => summary),
      renotified: result.renotified,
    });
    return result;
  };

  return middy<unknown, Awaited<ReturnType<typeof publish>>, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics))
    .handler(publish);
}

function record(round: PoolRound, { metrics, tracer }: PublisherHandlerPorts): void {
  const perPool = metrics.singleMetric();
  perPool.addDimension('pool', round.pool);
  perPool.addMetric('Launches', MetricUnit.Count, round.launched);
  perPool.addMetric('Teardowns', MetricUnit.Count, round.teardowns);
  perPool.addMetric('InFlightRunners', MetricUnit.Count, Math.max(0, round.inFlight));
  perPool.addMetric('LaunchPublishFailures', MetricUnit.Count, round.failedPublishes);
  for (const seconds of round.dispatchDelays) perPool.addMetric('TimeToDispatch', MetricUnit.Seconds, seconds);
  if (round.launched > 0) tracer.putAnnotation('pool', round.pool);
  metrics.addMetric('PoolRounds', MetricUnit.Count, 1);
}
