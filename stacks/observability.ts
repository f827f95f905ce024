import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import type { Pool } from '@runners/shared';
import { Construct } from 'constructs';
import type { PoolQueueResources } from './dispatch';
import { METRICS_NAMESPACE, type TracedFunction } from './traced-function';

/*
 * One dashboard (per pool: queued jobs, time to dispatch, time to host, launches, launch failures, in-flight runners;
 * dead-letter depths; function errors and durations; GitHub calls and rate limit) and the alarms that mean someone
 * should look: any dead-lettered message, a pool queue's oldest message older than 10 minutes, any function error,
 * any unroutable job. Alarms go to one topic (ALARM_EMAIL subscribes an address).
 */

export interface ObservabilityProps {
  readonly prefix: string;
  readonly region: string;
  readonly pools: readonly Pool[];
  readonly poolQueues: ReadonlyMap<string, PoolQueueResources>;
  readonly deadLetterQueues: readonly { readonly name: string; readonly queueName: string }[];
  readonly functions: readonly TracedFunction[];
  readonly alarmEmail?: string;
  /** The stack's messages key (CloudWatch may publish with it; it may not with AWS's aws/sns key). */
  readonly messagesKeyArn: string;
}

type Metric = (string | Record<string, string | number>)[];
const OLDEST_MESSAGE_ALARM_SECONDS = 600;

export class Observability extends Construct {
  readonly alarmTopic: SnsTopic;
  readonly dashboard: CloudwatchDashboard;
  readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = new SnsTopic(this, 'alarms', { name: `${props.prefix}-alarms`, kmsMasterKeyId: props.messagesKeyArn });
    if (props.alarmEmail) new SnsTopicSubscription(this, 'alarm-email', { topicArn: this.alarmTopic.arn, protocol: 'email', endpoint: props.alarmEmail });
    const alarm = (
      key: string,
      description: string,
      spec: { namespace: string; metricName: string; dimensions: Record<string, string>; statistic: string; threshold: number; period?: number },
    ) =>
      new CloudwatchMetricAlarm(this, key, {
        alarmName: `${props.prefix}-${key}`,
        alarmDescription: description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        dimensions: spec.dimensions,
        // Percentiles (p95) are extended statistics.
        ...(/^p\d/.test(spec.statistic) ? { extendedStatistic: spec.statistic } : { statistic: spec.statistic }),
        period: spec.period ?? 60,
        evaluationPeriods: 1,
        threshold: spec.threshold,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [this.alarmTopic.arn],
        okActions: [this.alarmTopic.arn],
      });

    for (const dlq of props.deadLetterQueues) {
      alarm(`${dlq.name}-dead-letters`, `messages dead-lettered in ${dlq.queueName}: a launch, teardown or stream batch failed every retry`, {
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: dlq.queueName },
        statistic: 'Maximum',
        threshold: 0,
      });
    }
    for (const pool of props.pools.filter((p) => p.warm)) {
      // A warm slot gives up after the pool's launch attempts; its next try waits longer each time (up to 6 h).
      alarm(`${pool.name}-warm-slots-given-up`, `pool ${pool.name}: warm runners keep failing to launch (image, template, quota?)`, {
        namespace: METRICS_NAMESPACE,
        metricName: 'WarmSlotsGivenUp',
        dimensions: { service: `orchestrator-${pool.host}`, pool: pool.name },
        statistic: 'Sum',
        threshold: 0,
        period: 3600,
      });
    }
    for (const pool of props.pools) {
      alarm(`${pool.name}-queue-age`, `pool ${pool.name}: a launch or teardown has waited over ${OLDEST_MESSAGE_ALARM_SECONDS / 60} minutes`, {
        namespace: 'AWS/SQS',
        metricName: 'ApproximateAgeOfOldestMessage',
        dimensions: { QueueName: props.poolQueues.get(pool.name)!.queue.name },
        statistic: 'Maximum',
        threshold: OLDEST_MESSAGE_ALARM_SECONDS,
      });
    }
    for (const pool of props.pools) {
      // What users feel: jobs of this pool waited too long for a runner (capacity, launch failures, GitHub).
      alarm(
        `${pool.name}-time-to-runner`,
        `pool ${pool.name}: p95 time from queued to a runner over ${pool.timeToRunnerAlarmMinutes} minutes (maxRunners reached? launches failing?)`,
        {
          namespace: METRICS_NAMESPACE,
          metricName: 'TimeToRunner',
          dimensions: { service: 'producer', pool: pool.name },
          statistic: 'p95',
          threshold: pool.timeToRunnerAlarmMinutes * 60,
          period: 900,
        },
      );
    }
    for (const fn of props.functions) {
      alarm(`${fn.node.id}-errors`, `function ${fn.function.functionName} failed`, {
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: fn.function.functionName },
        statistic: 'Sum',
        threshold: 0,
        period: 300,
      });
    }
    alarm('webhook-secret-not-configured', 'the producer refuses webhooks: the webhook secret is missing or a placeholder (run make ci-deploy)', {
      namespace: METRICS_NAMESPACE,
      metricName: 'WebhookSecretNotConfigured',
      dimensions: { service: 'producer' },
      statistic: 'Sum',
      threshold: 0,
      period: 300,
    });
    alarm('unroutable-jobs', 'jobs that no pool serves (check runs-on labels against pools.config.ts)', {
      namespace: METRICS_NAMESPACE,
      metricName: 'UnroutableJobs',
      dimensions: { service: 'producer' },
      statistic: 'Sum',
      threshold: 0,
      period: 300,
    });

    const perPool = (metricName: string, service: string, stat = 'Sum'): Metric[] =>
      props.pools.map((p) => [METRICS_NAMESPACE, metricName, 'service', service, 'pool', p.name, { stat, label: p.name }]);
    const orchestratorServices = [...new Set(props.pools.map((p) => `orchestrator-${p.host}`))];
    const widget = (title: string, metrics: Metric[], extra: Record<string, unknown> = {}) => ({
      type: 'metric',
      width: 8,
      height: 6,
      properties: { title, region: props.region, view: 'timeSeries', stacked: false, period: 60, metrics, ...extra },
    });
    const body = {
      widgets: [
        widget('Jobs queued', perPool('JobsQueued', 'producer')),
        widget('Time to dispatch p50 / p95 (s)', [...perPool('TimeToDispatch', 'publisher', 'p50'), ...perPool('TimeToDispatch', 'publisher', 'p95')]),
        widget(
          'Time to runner: queued → runner p50 / p95 (s)',
          [...perPool('TimeToRunner', 'producer', 'p50'), ...perPool('TimeToRunner', 'producer', 'p95')],
          {
            annotations: { horizontal: props.pools.map((p) => ({ label: `${p.name} alarm`, value: p.timeToRunnerAlarmMinutes * 60 })) },
          },
        ),
        widget(
          'Time to host: queued → host created p50 / p95 (s)',
          orchestratorServices.flatMap((service) => [...perPool('TimeToHost', service, 'p50'), ...perPool('TimeToHost', service, 'p95')]),
        ),
        widget('Launches', perPool('Launches', 'publisher')),
        widget(
          'Launch failures',
          orchestratorServices.flatMap((service) => perPool('LaunchFailures', service)),
        ),
        widget('In-flight runners', perPool('InFlightRunners', 'publisher', 'Maximum')),
        widget(
          'Dead-letter depth',
          props.deadLetterQueues.map((d) => ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', d.queueName, { stat: 'Maximum', label: d.name }]),
        ),
        widget(
          'Function errors',
          props.functions.map((f) => ['AWS/Lambda', 'Errors', 'FunctionName', f.function.functionName, { stat: 'Sum' }]),
        ),
        widget(
          'Function duration p95 (ms)',
          props.functions.map((f) => ['AWS/Lambda', 'Duration', 'FunctionName', f.function.functionName, { stat: 'p95' }]),
        ),
        widget(
          'GitHub API calls',
          [...orchestratorServices].map((service) => [
            {
              expression: `SUM(SEARCH('{${METRICS_NAMESPACE},service,operation,status} MetricName="GitHubCalls" service="${service}"', 'Sum', 60))`,
              label: service,
              id: service.replace(/-/g, '_'),
            },
          ]),
        ),
        widget('Reconciler', [
          ...orchestratorServices.flatMap((service) =>
            ['LeakedHostsRemoved', 'StuckLaunchesRequeued', 'IdleWarmRunnersRemoved'].map((name): Metric => [
              METRICS_NAMESPACE,
              name,
              'service',
              service,
              { stat: 'Sum', label: `${service} ${name}` },
            ]),
          ),
          ...['DeliveriesRedelivered', 'LostJobsRecorded', 'LeakedRegistrationsRemoved'].map((name): Metric => [
            METRICS_NAMESPACE,
            name,
            'service',
            'reconciler',
            { stat: 'Sum', label: name },
          ]),
        ]),
        widget(
          'GitHub rate limit remaining',
          orchestratorServices.map((service) => [METRICS_NAMESPACE, 'GitHubRateLimitRemaining', 'service', service, { stat: 'Minimum' }]),
        ),
      ],
    };
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', { dashboardName: props.prefix, dashboardBody: JSON.stringify(body) });
    this.dashboardUrl = `https://${props.region}.console.aws.amazon.com/cloudwatch/home?region=${props.region}#dashboards:name=${props.prefix}`;
  }
}
