import { beforeAll, describe, expect, it } from '@jest/globals';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { JIT_STARTED, JitParameters } from '@runners/shared';
import { lambdaFixture } from '../helpers/lambda';
import { lambdaTestPool } from '../helpers/pools';

/* The Lambda host beyond the contract: where the JIT config goes, what the invocation carries, when it re-invokes. */

const pool = lambdaTestPool();
const jit = Buffer.from('{"secret":"single-use"}').toString('base64');

describe('Lambda host', () => {
  let fixture: Awaited<ReturnType<typeof lambdaFixture>>;
  let jitParameters: JitParameters;
  beforeAll(async () => {
    fixture = await lambdaFixture();
    jitParameters = new JitParameters(fixture.ssm, `${fixture.parameterPrefix}/lambda-runners`);
  });

  it('puts the JIT config in a SecureString and invokes the pool function asynchronously with its name only', async () => {
    const ref = await fixture.host.create({ runnerName: 'gha-lambda-short-1-1', pool, jobId: 1, encodedJitConfig: jit, traceHeader: 'Root=1-abc' });

    const { Parameter } = await fixture.ssm.send(new GetParameterCommand({ Name: ref.id, WithDecryption: true }));
    expect(Parameter).toMatchObject({ Type: 'SecureString', Value: jit });
    const [invocation] = fixture.invocations.filter((i) => i.payload.runnerName === 'gha-lambda-short-1-1');
    expect(invocation).toMatchObject({ FunctionName: fixture.functionName, InvocationType: 'Event', payload: { runnerName: 'gha-lambda-short-1-1', pool: 'lambda-short', jobId: 1, traceHeader: 'Root=1-abc' } });
    expect(JSON.stringify(invocation)).not.toContain(jit);
  });

  it('does not invoke again for a runner that started; invokes again for one that did not', async () => {
    await fixture.host.create({ runnerName: 'gha-lambda-short-2-1', pool, jobId: 2, encodedJitConfig: jit });
    await fixture.host.create({ runnerName: 'gha-lambda-short-3-1', pool, jobId: 3, encodedJitConfig: jit });
    await jitParameters.markStarted('gha-lambda-short-2-1', { pool: pool.name, jobId: 2 });

    await fixture.host.create({ runnerName: 'gha-lambda-short-2-1', pool, jobId: 2, encodedJitConfig: jit });
    await fixture.host.create({ runnerName: 'gha-lambda-short-3-1', pool, jobId: 3, encodedJitConfig: jit });

    const count = (name: string) => fixture.invocations.filter((i) => i.payload.runnerName === name).length;
    expect(count('gha-lambda-short-2-1')).toBe(1);
    expect(count('gha-lambda-short-3-1')).toBe(2);
    expect(await jitParameters.read('gha-lambda-short-2-1')).toBe(JIT_STARTED);
  });

  it('lists pending and started runners with their pool and job; delete removes the parameter', async () => {
    const listed = await fixture.host.list();
    expect(listed.find((h) => h.runnerName === 'gha-lambda-short-2-1')).toMatchObject({ pool: 'lambda-short', jobId: 2 });

    expect(await fixture.host.delete('gha-lambda-short-2-1')).toBe('deleted');
    expect(await jitParameters.read('gha-lambda-short-2-1')).toBeUndefined();
    expect((await fixture.host.list()).map((h) => h.runnerName)).not.toContain('gha-lambda-short-2-1');
  });

  it('fails the create when the invoke fails (Lambda throttles), and the retry invokes', async () => {
    let throttled = 0;
    fixture.lambda.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'InvokeCommand' && throttled++ === 0) {
          throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $fault: 'client' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleOnce', priority: 'low' },
    );
    await expect(fixture.host.create({ runnerName: 'gha-lambda-short-4-1', pool, jobId: 4, encodedJitConfig: jit })).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    await fixture.host.create({ runnerName: 'gha-lambda-short-4-1', pool, jobId: 4, encodedJitConfig: jit });

    const recorded = fixture.invocations.filter((i) => i.payload.runnerName === 'gha-lambda-short-4-1');
    expect(recorded).toHaveLength(2);
    expect(throttled).toBe(2);
    expect(await jitParameters.read('gha-lambda-short-4-1')).toBe(jit);
    fixture.lambda.middlewareStack.remove('throttleOnce');
  });
});
