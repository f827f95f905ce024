// The runtime of the Lambda execution environment stand-in: what the Node.js runtime's interface client does with the
// Lambda Runtime API (Lambda developer guide, "Using the Lambda runtime API for custom runtimes"): load the handler
// named by _HANDLER from LAMBDA_TASK_ROOT once (the init phase), then loop — GET /invocation/next (blocks until an
// invocation), call the handler with the event and a context built from the response headers (request id, deadline,
// function ARN, trace id → _X_AMZN_TRACE_ID), POST the result to /response or the error to /error. The process and
// /tmp live on between invocations: Lambda reuses the execution environment.
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const [moduleName, exportName] = (process.env._HANDLER ?? 'index.handler').split('.');
const errorBody = (error) => JSON.stringify({ errorType: error?.name ?? 'Error', errorMessage: error?.message ?? String(error) });

let handler;
try {
  handler = (await import(`${process.env.LAMBDA_TASK_ROOT}/${moduleName}.mjs`))[exportName];
  if (typeof handler !== 'function') throw new Error(`${moduleName}.${exportName} is not a function`);
} catch (error) {
  await fetch(`${api}/init/error`, { method: 'POST', body: errorBody(error), headers: { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' } });
  process.exit(1);
}

for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  const requestId = next.headers.get('lambda-runtime-aws-request-id');
  const deadline = Number(next.headers.get('lambda-runtime-deadline-ms'));
  const trace = next.headers.get('lambda-runtime-trace-id');
  if (trace) process.env._X_AMZN_TRACE_ID = trace;
  else delete process.env._X_AMZN_TRACE_ID;
  const event = await next.json();
  const context = {
    awsRequestId: requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: next.headers.get('lambda-runtime-invoked-function-arn'),
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: true,
  };
  try {
    const result = await handler(event, context);
    await fetch(`${api}/invocation/${requestId}/response`, { method: 'POST', body: JSON.stringify(result ?? null) });
  } catch (error) {
    await fetch(`${api}/invocation/${requestId}/error`, {
      method: 'POST',
      body: errorBody(error),
      headers: { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' },
    });
  }
}
