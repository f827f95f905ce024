// The Lambda context object a handler receives, for the local runtime and the tests' handler harness.
// Plain JavaScript: it is also loaded by the runtime's worker threads, which run without a TypeScript loader.
import { randomUUID } from 'node:crypto';

export function lambdaContext(functionName, options = {}) {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const region = options.region ?? 'us-east-1';
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 512),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
