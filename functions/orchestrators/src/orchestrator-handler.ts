import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { hostMessageSchema, isWarmJobId, parseMessage, PayloadError } from '@runners/shared';
import { inJobSegment, inSubsegment } from '@runners/shared/tracing';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { classifyLaunchError } from './launch-errors';
import { handleInterruption, parseInterruption, type Interruption, type InterruptionReport } from './interruptions';
import { launch, LaunchFailedError, teardown, type TeardownFindings } from './orchestrate';
import { applyHostRules, type HostRulePorts } from './host-rules';

export interface OrchestratorHandlerPorts extends HostRulePorts {
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

/** Thrown to leave a message in the queue for a later delivery (reported as a partial batch failure). */
class RetryLater extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** An orchestrator: a batch of one pool queue's launch/teardown messages; failures retried message by message. */
export function createOrchestratorHandler(ports: OrchestratorHandlerPorts) {
  const { logger, tracer, metrics } = ports;
  const processor = new BatchProcessor(EventType.SQS);

  const count = (name: string, pool: string) => {
    const metric = metrics.singleMetric();
    metric.addDimension('pool', pool);
    metric.addMetric(name, MetricUnit.Count, 1);
  };

  const handleRecord = async (record: SQSRecord): Promise<void> => {
    let message;
    try {
      message = parseMessage(hostMessageSchema, record.body);
    } catch (error) {
      // A malformed message would fail the same way forever: acknowledge it, loudly, instead of retrying it.
      if (!(error instanceof PayloadError)) throw error;
      logger.error('dropping a malformed host message', { messageId: record.messageId, issues: error.issues });
      return;
    }
    // The records of a batch run at once: each gets its own logger (its job's keys on every line) and its own
    // subsegment (the job's annotations), instead of keys and annotations that the next record would overwrite.
    const job = { runnerName: message.runnerName, pool: message.pool, jobId: message.jobId };
    const log = logger.createChild({ persistentKeys: job });
    // The steps of the launch (JIT config, host creation) as subsegments of the job's trace, for its timeline.
    const recordPorts = { ...ports, logger: log, step: <T>(name: string, work: () => Promise<T>) => inSubsegment(tracer, name, work) };
    await inJobSegment(tracer, message.action, { ...job, traceHeader: message.traceHeader }, async () => {
      try {
        if (message.action === 'launch') {
          const outcome = await launch(message, recordPorts);
          log.info('launch', { outcome });
          if (outcome === 'launched') {
            count('Launches', message.pool);
            const perPool = metrics.singleMetric();
            perPool.addDimension('pool', message.pool);
            // Queued (on GitHub) → host created: what a pool's users wait before their runner boots.
            perPool.addMetric('TimeToHost', MetricUnit.Seconds, (ports.now() - Date.parse(message.queuedAt ?? message.dispatchedAt)) / 1000);
          }
          // A teardown freed the slot while this launch ran (the job was cancelled or ran elsewhere): it removed what it made.
          if (outcome === 'lost-ownership') count('LaunchesAbandoned', message.pool);
          if (outcome === 'retry-later') throw new RetryLater(`launch of ${message.runnerName} is in progress elsewhere`);
        } else {
          const findings: TeardownFindings = {};
          const outcome = await teardown(message, recordPorts, findings);
          log.info('teardown', { outcome, reason: message.reason, ...findings });
          if (outcome === 'torn-down') count('Teardowns', message.pool);
          if (findings.interrupted?.newly) count('InterruptedJobs', message.pool);
          if (findings.interrupted?.rerun) count('InterruptedJobsRerun', message.pool);
        }
      } catch (error) {
        if (error instanceof LaunchFailedError) {
          // The job went back to the publisher (or was given up): this message is done.
          count('LaunchFailures', message.pool);
          if (error.failure.kind === 'permanent') count('PermanentLaunchFailures', message.pool);
          if (error.gaveUp && isWarmJobId(message.jobId)) count('WarmSlotsGivenUp', message.pool);
          log.error('launch failed', { error, gaveUp: error.gaveUp, failure: error.failure });
          return;
        }
        // Retried (the message stays on the queue): logged here with its cause and class, record by record — the batch's
        // own error says only that records failed.
        if (error instanceof RetryLater) log.info(error.message);
        else log.error(`${message.action} failed; the message will be retried`, { error, failure: classifyLaunchError(error) });
        throw error;
      }
    });
  };

  /** The schedule's tick (EventBridge): the host rules over this host kind's hosts and in-flight launches. */
  const hostRules = async () => {
    const report = await applyHostRules(ports.host.kind, ports);
    logger.info('host rules pass', { ...report });
    metrics.addMetric('LeakedHostsRemoved', MetricUnit.Count, report.leakedHostsRemoved);
    metrics.addMetric('StuckLaunchesRequeued', MetricUnit.Count, report.stuckLaunchesRequeued);
    metrics.addMetric('IdleWarmRunnersRemoved', MetricUnit.Count, report.idleWarmRemoved);
    metrics.addMetric('NeverAssignedRunnersRemoved', MetricUnit.Count, report.neverAssignedRemoved);
    metrics.addMetric('HostsPastLifetimeRemoved', MetricUnit.Count, report.pastLifetimeRemoved);
    metrics.addMetric('SpareRunnersRemoved', MetricUnit.Count, report.sparesRemoved);
    return report;
  };
  const isTick = (event: unknown): boolean => (event as { source?: string }).source === 'aws.events';

  /** EventBridge: EC2 says one of the hosts is to be reclaimed. */
  const interrupted = async (interruption: Interruption) => {
    const report = await handleInterruption(interruption, ports);
    logger.info('host interruption', { ...report, hostId: interruption.hostId });
    if (report.found) metrics.addMetric(report.kind === 'spot-interruption' ? 'SpotInterruptions' : 'RebalanceRecommendations', MetricUnit.Count, 1);
    return report;
  };

  return middy<SQSEvent, SQSBatchResponse | Awaited<ReturnType<typeof hostRules>> | InterruptionReport, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics))
    .handler((event, context) => {
      if (isTick(event)) return hostRules();
      const interruption = parseInterruption(event);
      if (interruption) return interrupted(interruption);
      metrics.addMetric('HostMessages', MetricUnit.Count, event.Records.length);
      return processPartialResponse(event, handleRecord, processor, { context });
    });
}
