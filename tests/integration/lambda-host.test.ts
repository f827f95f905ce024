import { beforeAll, describe, expect, it } from '@jest/globals';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { lambdaFixture } from '../helpers/lambda';
import { lambdaTestPool } from '../helpers/pools';

/* The Lambda host beyond the contract: what the invocation carries, what the marker holds, when it re-invokes. */

const pool = lambdaTestPool();
const jit = Buffer.from('{"secret":"single-use"}').toString('base64');

describe('Lambda host', () => {
  let fixture: Awaited<ReturnType<typeof lambdaFixture>>;
  beforeAll(async () => {
    fixture = await lambdaFixture();
  });

  it('invokes the pool function asynchronously with the JIT config in the start request; the marker holds no secret', async () => {
    const ref = await fixture.host.create({ runnerName: 'gha-lambda-short-1-1', pool, jobId: 1, encodedJitConfig: jit, traceHeader: 'Root=1-abc' });

    const { Parameter } = await fixture.ssm.send(new GetParameterCommand({ Name: ref.id, WithDecryption: true }));
    expect(Parameter).toMatchObject({ Type: 'String' });
    expect(JSON.parse(Parameter!.Value!)).toEqual({ pool: 'lambda-short', jobId: 1 });
    const [invocation] = fixture.invocations.filter((i) => i.payload.runnerName === 'gha-lambda-short-1-1');
    expect(invocation).toMatchObject({
      FunctionName: fixture.functionName,
      InvocationType: 'Event',
      payload: { runnerName: 'gha-lambda-short-1-1', pool: 'lambda-short', jobId: 1, encodedJitConfig: jit, traceHeader: 'Root=1-abc' },
    });
  });

  it('does not invoke again for a runner an earlier attempt invoked', async () => {
    await fixture.host.create({ runnerName: 'gha-lambda-short-2-1', pool, jobId: 2, encodedJitConfig: jit });

    await fixture.host.create({ runnerName: 'gha-lambda-short-2-1', pool, jobId: 2, encodedJitConfig: jit });

    expect(fixture.invocations.filter((i) => i.payload.runnerName === 'gha-lambda-short-2-1')).toHaveLength(1);
  });

  it('lists invoked runners with their pool and job; delete removes the marker', async () => {
    const listed = await fixture.host.list();
    expect(listed.find((h) => h.runnerName === 'gha-lambda-short-2-1')).toMatchObject({ pool: 'lambda-short', jobId: 2 });

    expect(await fixture.host.delete('gha-lambda-short-2-1')).toBe('deleted');
    expect(await fixture.host.delete('gha-lambda-short-2-1')).toBe('absent');
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
    await expect(fixture.host.create({ runnerName: 'gha-lambda-short-4-1', pool, jobId: 4, encodedJitConfig: jit })).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });
    await fixture.host.create({ runnerName: 'gha-lambda-short-4-1', pool, jobId: 4, encodedJitConfig: jit });

    const recorded = fixture.invocations.filter((i) => i.payload.runnerName === 'gha-lambda-short-4-1');
    expect(recorded).toHaveLength(2);
    expect(throttled).toBe(2);
    fixture.lambda.middlewareStack.remove('throttleOnce');
  });
});
