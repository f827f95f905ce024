import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { discoverLostJobs, type DiscoverPorts } from './discover-lost-jobs';
import { redeliverLost, type RedeliverPorts } from './redeliver';
import { removeLeakedRegistrations, type RegistrationPorts } from './remove-leaked-registrations';
import { syncOpenJobs, type SyncPorts } from './sync-open-jobs';

export interface ReconcilerHandlerPorts
  extends
    RedeliverPorts,
    Omit<DiscoverPorts, 'github' | 'settleMs' | 'now' | 'config'>,
    Omit<RegistrationPorts, 'github' | 'now'>,
    Pick<SyncPorts, 'maxJobChecks' | 'syncCursor' | 'slots'> {
  readonly github: RedeliverPorts['github'] & DiscoverPorts['github'] & RegistrationPorts['github'] & SyncPorts['github'];
  readonly lostJobSettleMs: number;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

/**
 * The reconciler: every scheduled tick, lost webhook deliveries redelivered, jobs queued on GitHub that no webhook
 * brought recorded, open records moved on to the state GitHub has their jobs in (a lost `completed`), and leftover
 * runner registrations removed (the host rules run in each host kind's orchestrator,
 * which owns the hosts).
 */
export function createReconcilerHandler(ports: ReconcilerHandlerPorts) {
  const { logger, tracer, metrics } = ports;
  const pass = async () => {
    const redelivery = await redeliverLost(ports);
    logger.info('redelivery pass', { ...redelivery });
    metrics.addMetric('DeliveriesLost', MetricUnit.Count, redelivery.lost);
    metrics.addMetric('DeliveriesRedelivered', MetricUnit.Count, redelivery.redelivered);
    metrics.addMetric('DeliveriesPastRedeliveryLimit', MetricUnit.Count, redelivery.expired);
    tracer.putAnnotation('redelivered', redelivery.redelivered);
    const discovery = await discoverLostJobs({ ...ports, settleMs: ports.lostJobSettleMs });
    logger.info('lost-job pass', { ...discovery });
    metrics.addMetric('LostJobsRecorded', MetricUnit.Count, discovery.recorded);
    metrics.addMetric('StrandedJobsRerouted', MetricUnit.Count, discovery.rerouted);
    tracer.putAnnotation('lostJobsRecorded', discovery.recorded);
    const openJobs = await syncOpenJobs({ ...ports, settleMs: ports.lostJobSettleMs });
    logger.info('open-job pass', { ...openJobs });
    metrics.addMetric('OpenJobsAdvanced', MetricUnit.Count, openJobs.advanced);
    metrics.addMetric('LostCompletionsFound', MetricUnit.Count, openJobs.completed);
    metrics.addMetric('GoneRunnersRequeued', MetricUnit.Count, openJobs.requeued);
    tracer.putAnnotation('lostCompletionsFound', openJobs.completed);
    const registrations = await removeLeakedRegistrations(ports);
    logger.info('registration pass', { ...registrations });
    metrics.addMetric('LeakedRegistrationsRemoved', MetricUnit.Count, registrations.removed);
    return { redelivery, discovery, openJobs, registrations };
  };
  return middy(pass)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics));
}
