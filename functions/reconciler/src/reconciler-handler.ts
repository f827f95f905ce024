import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { discoverLostJobs, type DiscoverPorts, type DiscoverReport } from './discover-lost-jobs';
import { redeliverLost, type RedeliverPorts, type RedeliverReport } from './redeliver';
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

const NO_REDELIVERY: RedeliverReport = { examined: 0, read: 0, lost: 0, redelivered: 0, waiting: 0, expired: 0, failed: 0 };
const NO_DISCOVERY: DiscoverReport = { repositories: 0, runs: 0, queuedOnGitHub: 0, recorded: 0, rerouted: 0 };

/**
 * The reconciler: every scheduled tick, lost webhook deliveries redelivered, jobs queued on GitHub that no webhook
 * brought recorded, open records moved on to the state GitHub has their jobs in (a lost `completed`), and leftover
 * runner registrations removed (the host rules run in each host kind's orchestrator,
 * which owns the hosts).
 */
export function createReconcilerHandler(ports: ReconcilerHandlerPorts) {
  const { logger, tracer, metrics } = ports;
  // Redelivery and lost-job discovery make up for lost webhooks: with no pool taking webhooks (every pool pulls its
  // jobs from a scale set, whose unacknowledged messages come back by themselves) they have nothing to do.
  const webhookIntake = ports.config.pools.some((p) => p.intake === 'webhook');
  const pass = async () => {
    const redelivery = webhookIntake ? await redeliverLost(ports) : NO_REDELIVERY;
    logger.info('redelivery pass', { ...redelivery });
    metrics.addMetric('DeliveriesLost', MetricUnit.Count, redelivery.lost);
    metrics.addMetric('DeliveriesRedelivered', MetricUnit.Count, redelivery.redelivered);
    metrics.addMetric('DeliveriesPastRedeliveryLimit', MetricUnit.Count, redelivery.expired);
    tracer.putAnnotation('redelivered', redelivery.redelivered);
    const discovery = webhookIntake ? await discoverLostJobs({ ...ports, settleMs: ports.lostJobSettleMs }) : NO_DISCOVERY;
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
