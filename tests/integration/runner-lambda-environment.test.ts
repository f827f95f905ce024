import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { ensureSimRunnerLambdaImage, LAMBDA_USER, startExecutionEnvironment, type ExecutionEnvironment } from '../../sim/lambda/execution-environment';
import { ORG, simControl, simulatorWithClient } from '../helpers/simulator';

/*
 * The runner Lambda as Lambda runs it: the shipped bundle (dist/runner-lambda/index.mjs, from `make build`) in an
 * execution environment shaped like Lambda's (sim/lambda: not root, read-only but for /tmp, the function's
 * credentials in its environment, invocations through the Runtime API), reused for a second job as Lambda reuses it.
 */

describe('runner Lambda in a Lambda execution environment, reused', () => {
  const docker = new Docker();
  let github: Awaited<ReturnType<typeof simulatorWithClient>>;
  let environment: ExecutionEnvironment;

  beforeAll(async () => {
    if (!existsSync('dist/runner-lambda/index.mjs')) throw new Error('dist/runner-lambda/index.mjs is missing: run "make build" (make test does)');
    await ensureSimRunnerLambdaImage(docker);
    github = await simulatorWithClient({ timing: { assignDelayMs: 100 } });
    environment = await startExecutionEnvironment(docker, {
      functionName: 'er-test-runner-lambda-short',
      // The function's own credentials, as Lambda puts them in the environment: the job must not see them.
      environment: {
        AWS_ACCESS_KEY_ID: 'ASIAFUNCTION',
        AWS_SECRET_ACCESS_KEY: 'function-secret',
        AWS_SESSION_TOKEN: 'function-token',
        POWERTOOLS_TRACE_ENABLED: 'false',
      },
    });
  }, 300_000);
  afterAll(async () => {
    await environment?.stop();
    await github?.sim.stop();
  });

  async function job(runnerName: string) {
    const installationId = await github.client.installationId(ORG);
    const jit = await github.client.generateJitConfig(installationId, ORG, { name: runnerName, labels: ['self-hosted', 'linux', 'x64', 'lambda'] });
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(github.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'lambda'], durationMs: 300 }],
    });
    return { jobId: jobs[0]!.id, invocation: { runnerName, pool: 'lambda-short', jobId: jobs[0]!.id, encodedJitConfig: jit.encodedJitConfig } };
  }

  it('runs a job per invocation as Lambda’s user, twice in one environment, leaving /tmp empty after each', async () => {
    for (const name of ['gha-lambda-short-1-1', 'gha-lambda-short-2-1']) {
      const { jobId, invocation } = await job(name);

      const { result } = environment.invoke(invocation, { timeoutMs: 120_000 });

      expect(await result).toEqual({ ok: true, payload: { outcome: 'finished', exitCode: 0, signal: null, stoppedForTimeout: false, leftoverProcesses: 0 } });
      expect(github.sim.model.jobs.get(jobId)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: name });
      expect((await environment.exec(['ls', '-A', '/tmp'])).trim()).toBe('');
    }
    // One environment served both: one runtime process, still there; nothing else left running.
    const processes = (await environment.exec(['ps', '-eo', 'uid=,args=']))
      .trim()
      .split('\n')
      .filter((p) => !/\bps -eo\b/.test(p));
    expect(processes).toHaveLength(1);
    expect(processes[0]).toMatch(new RegExp(`^\\s*${LAMBDA_USER.uid}\\s+/var/lang/bin/node /var/runtime/bootstrap.mjs`));
  }, 180_000);

  it('is read-only outside /tmp, as Lambda is: the runner works only because the handler copies it there', async () => {
    expect(await environment.exec(['sh', '-c', 'touch /opt/actions-runner/.runner 2>&1; touch /var/task/x 2>&1'])).toMatch(
      /Read-only file system[\s\S]*Read-only file system/,
    );
    expect((await environment.exec(['id', '-u'])).trim()).toBe(String(LAMBDA_USER.uid));
  }, 60_000);
});
