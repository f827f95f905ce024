import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { parseWith, runnerInvocation } from '@runners/shared';
import type { Context } from 'aws-lambda';
import { runRunner, type RunOutcome } from './run-runner';

export interface RunnerLambdaPorts {
  readonly runnerDir: string;
  readonly workRoot: string;
  readonly logger: Logger;
  readonly tracer: Tracer;
}

/** The runner Lambda: an asynchronous invocation from the Lambda orchestrator → one runner, run to its end. */
export function createRunnerLambdaHandler(ports: RunnerLambdaPorts) {
  const { logger, tracer } = ports;
  const run = async (event: unknown, context: Context): Promise<RunOutcome> => {
    // A malformed event is a bug in its sender: throw (the issues name fields, never the JIT config's value), and the
    // failure lands in the function's on-failure destination.
    const invocation = parseWith(runnerInvocation, event);
    logger.appendKeys({ runnerName: invocation.runnerName, jobId: invocation.jobId, pool: invocation.pool });
    tracer.putAnnotation('runnerName', invocation.runnerName);
    const outcome = await runRunner(invocation, {
      runnerDir: ports.runnerDir,
      workRoot: ports.workRoot,
      remainingMs: () => context.getRemainingTimeInMillis(),
      log: (message, details) => logger.info(message, details ?? {}),
    });
    tracer.putAnnotation('outcome', outcome.outcome);
    return outcome;
  };
  // The event is never logged (it carries the JIT config): injectLambdaContext without logEvent.
  return middy(run)
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }));
}
