import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { RunnerInvocation } from '@runners/shared';
import { randomUUID } from 'node:crypto';
import { LambdaHost } from '@runners/orchestrators/hosts';
import { motoTarget, strictMotoTarget } from './aws';

/** The smallest valid zip (an empty archive): moto stores the code, it does not run it. */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

/**
 * A LambdaHost on moto Lambda + SSM, with a runner function per test and every Invoke input recorded. moto runs
 * functions without Docker here (it would pull an image from the internet): an invocation is accepted and answered,
 * not executed — the runner Lambda's own test runs the handler.
 */
export async function lambdaFixture() {
  const target = motoTarget();
  await fetch(`${target.endpoint}/moto-api/config`, { method: 'POST', body: JSON.stringify({ lambda: { use_docker: false } }) });
  const id = randomUUID().slice(0, 8);
  const { Role } = await new IAMClient(target.clientConfig).send(
    new CreateRoleCommand({
      RoleName: `runner-${id}`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  const lambda = new LambdaClient(target.clientConfig);
  const functionName = `runner-${id}`;
  await lambda.send(
    new CreateFunctionCommand({ FunctionName: functionName, Role: Role!.Arn, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: EMPTY_ZIP } }),
  );
  const invocations: (Omit<InvokeCommandInput, 'Payload'> & { payload: RunnerInvocation })[] = [];
  lambda.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'InvokeCommand') {
        const { Payload, ...input } = (args as { input: InvokeCommandInput }).input;
        invocations.push({ ...input, payload: JSON.parse(Buffer.from(Payload as Uint8Array).toString()) as RunnerInvocation });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordInvoke' },
  );
  const ssm = new SSMClient((await strictMotoTarget()).clientConfig);
  const parameterPrefix = `/contract-${id}`;
  const host = new LambdaHost({ lambda, ssm, parameterPrefix, functionName: () => functionName });
  return { host, ssm, lambda, invocations, functionName, parameterPrefix };
}
