// One emulated Lambda execution environment: imports a function bundle once (the cold start), then runs one
// invocation at a time, as Lambda does, with the function's own environment variables.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { lambdaContext } from './lambda-context.mjs';

const { bundle, functionName, timeoutMs, memoryMb } = workerData;
// The init phase: the bundle's import and its top-level work (what Lambda reports as Init Duration).
const initStarted = performance.now();
const module = await import(pathToFileURL(bundle).href);
const initMs = performance.now() - initStarted;
if (typeof module.handler !== 'function') throw new Error(`${bundle} exports no handler`);

parentPort.on('message', async ({ id, event, stats, traceHeader }) => {
  if (stats) {
    // The AWS calls this environment made (see functions/shared/src/adapters/aws-calls/call-counter.ts).
    parentPort.postMessage({ id, result: Object.fromEntries(globalThis.__ephemeralRunnersAwsCalls ?? []) });
    return;
  }
  const context = lambdaContext(functionName, { timeoutMs, memoryMb });
  // Where the Lambda runtime puts the invocation's trace header; the X-Ray SDK reads it for each invocation.
  if (traceHeader) process.env._X_AMZN_TRACE_ID = traceHeader;
  let timer;
  try {
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${timeoutMs / 1000} seconds`)), timeoutMs);
    });
    const result = await Promise.race([module.handler(event, context), timeout]);
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) } });
  } finally {
    clearTimeout(timer);
  }
});
parentPort.postMessage({ ready: true, initMs });
