import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { PayloadError } from '@runners/shared';
import type { Context } from 'aws-lambda';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunnerLambdaHandler } from '@runners/runner-lambda';
import { installSimRunner } from '../../sim/runner/image';
import { ORG, simControl, simulatorWithClient } from '../helpers/simulator';

/*
 * The runner Lambda's handler, in process: the JIT config comes in the invocation; it copies the runner (the
 * simulated one, unpacked like the real one) to its work root, runs it against the GitHub simulator
 * until the job ends, and cleans up — processes the job left and every file in the work root, so the next
 * invocation of a reused execution environment sees nothing of this one. No Lambda runtime is involved; the context
 * is the handler's only tie to it.
 */

const context = (remainingMs = 900_000) => ({ getRemainingTimeInMillis: () => remainingMs, functionName: 'runner', awsRequestId: 'r-1' }) as unknown as Context;

describe('runner Lambda', () => {
  let env: Awaited<ReturnType<typeof simulatorWithClient>>;
  let runnerDir: string;
  let workRoot: string;
  let handler: ReturnType<typeof createRunnerLambdaHandler>;
  const saved = { ...process.env };

  beforeAll(async () => {
    env = await simulatorWithClient();
    // The image installs the runner in a read-only directory: here the simulated runner, unpacked as the release is.
    runnerDir = mkdtempSync(join(tmpdir(), 'runner-image-'));
    installSimRunner(runnerDir);
    // This test runs the handler in this process, as root; Lambda runs it as its own user (the execution environment
    // test does that), so here the runner is told that root is meant.
    process.env.RUNNER_ALLOW_RUNASROOT = '1';
    workRoot = mkdtempSync(join(tmpdir(), 'runner-tmp-'));
    handler = createRunnerLambdaHandler({
      runnerDir,
      workRoot,
      logger: new Logger({ serviceName: 'runner-lambda', logLevel: 'ERROR' }),
      tracer: new Tracer({ enabled: false }),
    });
  });
  afterAll(async () => {
    process.env = saved;
    await env.sim.stop();
    rmSync(runnerDir, { recursive: true, force: true });
    rmSync(workRoot, { recursive: true, force: true });
  });

  const jitConfig = async (name: string, labels = ['self-hosted', 'lambda']) => {
    const installationId = await env.client.installationId(ORG);
    return { installationId, ...(await env.client.generateJitConfig(installationId, ORG, { name, labels })) };
  };

  it('runs the runner with the JIT config of its invocation until the job ends, then empties its work root', async () => {
    const { installationId, runnerId, encodedJitConfig } = await jitConfig('gha-lambda-short-7-1');
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'lambda'], durationMs: 300 }],
    });

    const outcome = await handler({ runnerName: 'gha-lambda-short-7-1', pool: 'lambda-short', jobId: jobs[0]!.id, encodedJitConfig }, context());

    expect(outcome).toEqual({ outcome: 'finished', exitCode: 0, signal: null, stoppedForTimeout: false, leftoverProcesses: 0 });
    expect(env.sim.model.jobs.get(jobs[0]!.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'gha-lambda-short-7-1' });
    expect(await env.client.getRunner(installationId, ORG, runnerId)).toBeUndefined();
    expect(readdirSync(workRoot)).toEqual([]);
  }, 60_000);

  it('gives the job none of the function’s AWS credentials, and leaves the next invocation nothing of it', async () => {
    // Prepare: the function's credentials, as Lambda sets them; a "runner" whose job records what it sees, leaves a
    // file and a daemon that left its process group (setsid).
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'ASIAFUNCTION',
      AWS_SECRET_ACCESS_KEY: 'function-secret',
      AWS_SESSION_TOKEN: 'function-token',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      AWS_REGION: 'eu-west-1',
    });
    const spy = mkdtempSync(join(tmpdir(), 'runner-spy-'));
    const seen = join(mkdtempSync(join(tmpdir(), 'runner-seen-')), 'env');
    writeFileSync(join(spy, 'run.sh'), `#!/bin/sh\nenv > '${seen}'\necho leftover > "$HOME/left-by-job"\nsetsid sleep 300 &\nsleep 0.5\nexit 0\n`);
    chmodSync(join(spy, 'run.sh'), 0o755);
    const spyHandler = createRunnerLambdaHandler({
      runnerDir: spy,
      workRoot,
      logger: new Logger({ serviceName: 'runner-lambda', logLevel: 'ERROR' }),
      tracer: new Tracer({ enabled: false }),
    });

    // Act
    const outcome = await spyHandler({ runnerName: 'gha-lambda-short-11-1', pool: 'lambda-short', jobId: 11, encodedJitConfig: 'QUJD' }, context());

    // Assess: no credential, no runtime API; the region is fine to know.
    const jobEnv = readFileSync(seen, 'utf8');
    expect(jobEnv).not.toMatch(/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|LAMBDA_RUNTIME_API)=/m);
    expect(jobEnv).not.toContain('function-secret');
    expect(jobEnv).toMatch(/^AWS_REGION=eu-west-1$/m);
    // The daemon was killed and the file is gone: a reused execution environment starts clean.
    expect(outcome).toMatchObject({ outcome: 'finished', leftoverProcesses: 1 });
    expect(readdirSync(workRoot)).toEqual([]);
    // No process carrying this run's marker (its environment, inherited by everything the job starts) is left.
    const marker = /^EPHEMERAL_RUNNERS_RUN=.+$/m.exec(jobEnv)![0];
    const marked = () =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
          } catch {
            return false;
          }
        });
    for (let i = 0; i < 30 && marked().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(marked()).toEqual([]);
    rmSync(spy, { recursive: true, force: true });
  }, 30_000);

  it('stops a runner that would outlive the invocation, and still cleans up', async () => {
    // A runner with no job to take: it waits for work until it is stopped.
    const { encodedJitConfig } = await jitConfig('gha-lambda-short-10-1', ['self-hosted', 'nothing-queued']);

    // 20.5 s left: the handler keeps 20 s for clean-up, so it stops the runner after about half a second.
    const outcome = await handler({ runnerName: 'gha-lambda-short-10-1', pool: 'lambda-short', jobId: 10, encodedJitConfig }, context(20_500));

    expect(outcome).toMatchObject({ outcome: 'finished', stoppedForTimeout: true });
    expect(readdirSync(workRoot)).toEqual([]);
  }, 30_000);

  it('rejects a malformed invocation with the bad fields named, never echoing the JIT config, touching nothing', async () => {
    const bad = { runnerName: 'Bad Name', pool: 'lambda-short', encodedJitConfig: 'not base64 but a secret!' };

    const failure = handler(bad, context());

    await expect(failure).rejects.toThrow(PayloadError);
    await expect(handler(bad, context())).rejects.toMatchObject({
      issues: expect.arrayContaining([
        expect.objectContaining({ path: 'runnerName' }),
        expect.objectContaining({ path: 'jobId' }),
        expect.objectContaining({ path: 'encodedJitConfig' }),
      ]),
    });
    await expect(handler(bad, context())).rejects.not.toThrow(/a secret/);
    expect(readdirSync(workRoot)).toEqual([]);
  });
});
