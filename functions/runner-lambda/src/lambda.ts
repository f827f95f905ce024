import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { readEnvironment } from './config';
import { createRunnerLambdaHandler } from './runner-lambda-handler';

/* Lambda entry (container image, see Dockerfile): wired once per cold start. It calls no AWS API. */

const environment = readEnvironment();
const tracer = new Tracer({ serviceName: 'runner-lambda' });

export const handler = createRunnerLambdaHandler({
  runnerDir: environment.RUNNER_DIR,
  workRoot: environment.WORK_ROOT,
  logger: new Logger({ serviceName: 'runner-lambda' }),
  tracer,
});
