import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { currentTraceHeader, cronProblem, parsePoolsConfig } from '@runners/shared';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { DynamoDbDispatchStore } from '@runners/shared/dynamodb';
import { SnsDispatchBus } from '@runners/shared/sns';
import { inJobSegment } from '@runners/shared/tracing';
import poolsConfigFile from '../../../pools.config';
import { readEnvironment } from './config';
import { DEFAULT_ROUND_LIMITS } from './publish-round';
import { createPublisherHandler } from './publisher-handler';

/* Lambda entry: real ports, wired once per cold start; a bad environment or pools config fails the cold start. */

const environment = readEnvironment();
const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts', { cron: cronProblem });
const tracer = new Tracer({ serviceName: 'publisher' });

export const handler = createPublisherHandler({
  config,
  store: new DynamoDbDispatchStore(tracer.captureAWSv3Client(countAwsCalls(new DynamoDBClient({}))), environment.JOBS_TABLE_NAME),
  bus: new SnsDispatchBus(tracer.captureAWSv3Client(countAwsCalls(new SNSClient({}))), {
    jobs: environment.JOBS_TOPIC_ARN,
    publisher: environment.PUBLISHER_TOPIC_ARN,
  }),
  now: () => new Date(),
  traceHeader: currentTraceHeader,
  traceJob: (stage, job, work) => inJobSegment(tracer, stage, job, work),
  limits: { ...DEFAULT_ROUND_LIMITS, launchesPerRound: environment.LAUNCHES_PER_ROUND, queueWindow: environment.QUEUE_WINDOW },
  logger: new Logger({ serviceName: 'publisher' }),
  tracer,
  metrics: new Metrics({ serviceName: 'publisher' }),
});
