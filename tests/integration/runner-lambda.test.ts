import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SSMClient } from '@aws-sdk/client-ssm';
import { JIT_STARTED, JitParameters, PayloadError } from '@runners/shared';
import type { Context } from 'aws-lambda';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRunnerLambdaHandler } from '../../functions/runner-lambda/src/runner-lambda-handler';
import { motoTarget } from '../helpers/aws';
import { ORG, simControl, simulatorWithClient } from '../helpers/simulator';

/*
 * The runner Lambda's handler, in process: it reads the JIT config from moto SSM, copies the runner (the simulated
 * one, installed like the real one with run.sh) to its work root, runs it against the GitHub simulator until the job
 * ends, and cleans up. No Lambda runtime is involved; the context is the handler's only tie to it.
 */

const context = (remainingMs = 900_000) => ({ getRemainingTimeInMillis: () => remainingMs, functionName: 'runner', awsRequestId: 'r-1' }) as unknown as Context;

describe('runner Lambda', () => {
  let env: Awaited<ReturnType<typeof simulatorWithClient>>;
  let jit: JitParameters;
  let runnerDir: string;
  let workRoot: string;
  let handler: ReturnType<typeof createRunnerLambdaHandler>;

  beforeAll(async () => {
    env = await simulatorWithClient();
    const target = motoTarget();
    jit = new JitParameters(new SSMClient(target.clientConfig), `/runner-lambda-${Date.now()}/lambda-runners`);
    // The image installs the runner in a read-only directory: here a copy of the simulated runner with its run.sh.
    runnerDir = mkdtempSync(join(tmpdir(), 'runner-image-'));
    copyFileSync(resolve('sim/runner/runner.mjs'), join(runnerDir, 'runner.mjs'));
    writeFileSync(join(runnerDir, 'run.sh'), `#!/bin/sh\nexec "${process.execPath}" "$(dirname "$0")/runner.mjs" "$@"\n`);
    chmodSync(join(runnerDir, 'run.sh'), 0o755);
    workRoot = mkdtempSync(join(tmpdir(), 'runner-tmp-'));
    handler = createRunnerLambdaHandler({ jit, runnerDir, workRoot, logger: new Logger({ serviceName: 'runner-lambda', logLevel: 'ERROR' }), tracer: new Tracer({ enabled: false }) });
  });
  afterAll(async () => {
    await env.sim.stop();
    rmSync(runnerDir, { recursive: true, force: true });
    rmSync(workRoot, { recursive: true, force: true });
  });

  it('runs the runner with its JIT config until the job ends, then deletes the parameter and its copy', async () => {
    const installationId = await env.client.installationId(ORG);
    const { runnerId, encodedJitConfig } = await env.client.generateJitConfig(installationId, ORG, { name: 'gha-lambda-short-7-1', labels: ['self-hosted', 'lambda'] });
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(env.sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo: 'app', jobs: [{ labels: ['self-hosted', 'lambda'], durationMs: 300 }] });
    await jit.put('gha-lambda-short-7-1', encodedJitConfig, { pool: 'lambda-short', jobId: jobs[0]!.id }, { overwrite: false });

    const outcome = await handler({ runnerName: 'gha-lambda-short-7-1', pool: 'lambda-short', jobId: jobs[0]!.id }, context());

    expect(outcome).toEqual({ outcome: 'finished', exitCode: 0, signal: null, stoppedForTimeout: false });
    expect(env.sim.model.jobs.get(jobs[0]!.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'gha-lambda-short-7-1' });
    expect(await env.client.getRunner(installationId, ORG, runnerId)).toBeUndefined();
    expect(await jit.read('gha-lambda-short-7-1')).toBeUndefined();
    expect(readdirSync(workRoot)).toEqual([]);
  }, 60_000);

  it('a duplicate invocation finds the config spent and runs nothing', async () => {
    await jit.put('gha-lambda-short-8-1', 'unused', { pool: 'lambda-short', jobId: 8 }, { overwrite: false });
    await jit.markStarted('gha-lambda-short-8-1', { pool: 'lambda-short', jobId: 8 });

    expect(await handler({ runnerName: 'gha-lambda-short-8-1', pool: 'lambda-short', jobId: 8 }, context())).toEqual({ outcome: 'spent' });
    // The first invocation owns the parameter: the duplicate leaves it.
    expect(await jit.read('gha-lambda-short-8-1')).toBe(JIT_STARTED);
    expect(existsSync(join(workRoot, 'gha-lambda-short-8-1'))).toBe(false);
  });

  it('a runner torn down before it started has nothing to run', async () => {
    expect(await handler({ runnerName: 'gha-lambda-short-9-1', pool: 'lambda-short', jobId: 9 }, context())).toEqual({ outcome: 'absent' });
  });

  it('stops a runner that would outlive the invocation, and still cleans up', async () => {
    const installationId = await env.client.installationId(ORG);
    // A runner with no job to take: it waits for work until it is stopped.
    const { encodedJitConfig } = await env.client.generateJitConfig(installationId, ORG, { name: 'gha-lambda-short-10-1', labels: ['self-hosted', 'nothing-queued'] });
    await jit.put('gha-lambda-short-10-1', encodedJitConfig, { pool: 'lambda-short', jobId: 10 }, { overwrite: false });

    // 20.5 s left: the handler keeps 20 s for clean-up, so it stops the runner after about half a second.
    const outcome = await handler({ runnerName: 'gha-lambda-short-10-1', pool: 'lambda-short', jobId: 10 }, context(20_500));

    expect(outcome).toMatchObject({ outcome: 'finished', stoppedForTimeout: true, signal: 'SIGTERM' });
    expect(await jit.read('gha-lambda-short-10-1')).toBeUndefined();
    expect(readdirSync(workRoot)).toEqual([]);
  }, 30_000);

  it('rejects a malformed invocation with the bad fields named, touching nothing', async () => {
    const spy = jest.spyOn(jit, 'read');
    await expect(handler({ runnerName: 'Bad Name', pool: 'lambda-short' }, context())).rejects.toThrow(PayloadError);
    await expect(handler({ runnerName: 'Bad Name', pool: 'lambda-short' }, context())).rejects.toMatchObject({ issues: expect.arrayContaining([expect.objectContaining({ path: 'runnerName' }), expect.objectContaining({ path: 'jobId' })]) });
    expect(spy).not.toHaveBeenCalled();
  });
});
