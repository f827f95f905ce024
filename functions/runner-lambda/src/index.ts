import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SSMClient } from '@aws-sdk/client-ssm';
import { countAwsCalls, JitParameters } from '@runners/shared';
import { readEnvironment } from './config';
import { createRunnerLambdaHandler } from './runner-lambda-handler';

/* Lambda entry (container image, see Dockerfile): real ports, wired once per cold start. */

const environment = readEnvironment();
const tracer = new Tracer({ serviceName: 'runner-lambda' });

export const handler = createRunnerLambdaHandler({
  jit: new JitParameters(tracer.captureAWSv3Client(countAwsCalls(new SSMClient({}))), `${environment.PARAMETER_PREFIX}/lambda-runners`),
  runnerDir: environment.RUNNER_DIR,
  workRoot: environment.WORK_ROOT,
  logger: new Logger({ serviceName: 'runner-lambda' }),
  tracer,
});
