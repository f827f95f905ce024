import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SNSClient } from '@aws-sdk/client-sns';
import { currentTraceHeader } from '@runners/shared';
import { countAwsCalls } from '@runners/shared/aws-calls';
import { SnsDispatchBus } from '@runners/shared/sns';
import { readEnvironment } from './config';
import { createMessengerHandler } from './messenger-handler';

/* Lambda entry: real ports, wired once per cold start. */

const environment = readEnvironment();
const tracer = new Tracer({ serviceName: 'messenger' });

export const handler = createMessengerHandler({
  // The messenger only notifies the publisher; it never publishes host messages.
  bus: new SnsDispatchBus(tracer.captureAWSv3Client(countAwsCalls(new SNSClient({}))), { publisher: environment.PUBLISHER_TOPIC_ARN }),
  traceHeader: currentTraceHeader,
  logger: new Logger({ serviceName: 'messenger' }),
  tracer,
  metrics: new Metrics({ serviceName: 'messenger' }),
});
