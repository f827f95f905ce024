import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Docker from 'dockerode';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../local/free-port.mjs';
import { localNamespace } from '../../local/stack-lock';
import { getJob } from '../helpers/aws';
import { examplePayload, signature } from '../helpers/webhooks';

/*
 * `make local`, then a signed curl of a real `queued` payload: 202, and the job is in the table. Then Ctrl-C (SIGINT
 * to the process group, as a terminal sends it) stops everything, moto included.
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const run = promisify(execFile);

import type { StackFile } from '../../local/stack';

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms; output:\n${output()}`);
}

describe('make local', () => {
  const stackDir = mkdtempSync(join(tmpdir(), 'local-stack-'));
  let child: ChildProcess;
  let output = '';
  let stack: StackFile;
  let exitCode: Promise<number | null>;

  beforeAll(async () => {
    const [httpPort, motoPort] = [await freePort(), await freePort()];
    child = spawn('make', ['--no-print-directory', 'local'], {
      cwd: root,
      detached: true, // its own process group, so that SIGINT reaches make and everything under it, like Ctrl-C
      env: {
        ...process.env,
        LOCAL_STACK_DIR: stackDir,
        LOCAL_HTTP_PORT: String(httpPort),
        MOTO_PORT: String(motoPort),
        LOCAL_STATUS_PORT: String(await freePort()),
        LOCAL_SIM_PORT: String(await freePort()),
        WEBHOOK_SECRET: '',
        DEMO_JOBS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exitCode = new Promise((done) => child.once('exit', (code) => done(code)));
    const stackFile = join(stackDir, 'stack.json');
    stack = await waitFor(
      'stack.json',
      () => (existsSync(stackFile) ? (JSON.parse(readFileSync(stackFile, 'utf8')) as StackFile) : undefined),
      90_000,
      () => output,
    );
  }, 120_000);

  afterAll(async () => {
    // Only if a test failed before Ctrl-C: never leave the stack running.
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });

  it('writes stack.json with the webhook URL, a generated secret, the AWS endpoint and the tables', () => {
    expect(stack.webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook$/);
    expect(stack.webhookSecret).toMatch(/^[0-9a-f]{48}$/);
    expect(stack.aws).toMatchObject({ endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), region: 'us-east-1' });
    expect(stack.tables.jobs).toBe('ephemeral-runners-jobs');
    expect(Object.keys(stack.queues)).toEqual(['docker-linux', 'docker-large', 'eks-linux', 'ec2-linux', 'ec2-windows', 'ec2-macos', 'lambda-linux']);
    expect(stack.functions).toEqual([
      'ephemeral-runners-producer',
      'ephemeral-runners-messenger',
      'ephemeral-runners-publisher',
      'ephemeral-runners-orchestrator-docker',
      'ephemeral-runners-reconciler',
      'ephemeral-runners-notifier',
    ]);
    expect(output).toContain('local stack is up');
  });

  it('answers a signed curl of a real queued payload with 202, records the job and launches a runner for it', async () => {
    // Prepare
    const jobId = 4_200_000_001;
    // A repository of the simulator's installation (the App is installed on octo-org there); no installation id, so
    // the orchestrator looks it up, as for a payload from a plain repository webhook.
    const payload = examplePayload('queued', { jobId, labels: ['self-hosted', 'linux', 'docker'], repo: 'octo-org/app' });
    delete payload.installation;
    const body = JSON.stringify(payload);
    const bodyFile = join(stackDir, 'queued.json');
    writeFileSync(bodyFile, body);

    // Act
    const { stdout } = await run('curl', [
      '--silent',
      '--show-error',
      '--write-out',
      '\n%{http_code}',
      '-X',
      'POST',
      stack.webhookUrl,
      '-H',
      'Content-Type: application/json',
      '-H',
      'X-GitHub-Event: workflow_job',
      '-H',
      'X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958',
      '-H',
      `X-Hub-Signature-256: ${signature(stack.webhookSecret, body)}`,
      '--data-binary',
      `@${bodyFile}`,
    ]);

    // Assess
    const [responseBody, status] = stdout.trim().split('\n');
    expect(status).toBe('202');
    expect(JSON.parse(responseBody!)).toEqual({ jobId, pool: 'docker-linux', state: 'queued', changed: true });
    const client = new DynamoDBClient({
      endpoint: stack.aws.endpoint,
      region: stack.aws.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    expect(await getJob(client, stack.tables.jobs, jobId)).toMatchObject({ job: { pool: 'docker-linux' } });

    // … and the stream → messenger → publisher → orchestrator chain launches a runner container for it.
    const docker = new Docker();
    const deadline = Date.now() + 30_000;
    let item = await getJob(client, stack.tables.jobs, jobId);
    while (item?.launchState !== 'created' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      item = await getJob(client, stack.tables.jobs, jobId);
    }
    expect(item).toMatchObject({ state: 'dispatched', slotPool: 'docker-linux', launchedRunner: `gha-docker-linux-${jobId}-1`, launchState: 'created' });
    const containers = await docker.listContainers({ filters: { label: ['ephemeral-runners.runner=gha-docker-linux-4200000001-1'] } });
    expect(containers).toHaveLength(1);
  }, 60_000);

  it('refuses an unsigned curl with 401', async () => {
    const { stdout } = await run('curl', [
      '--silent',
      '--output',
      '/dev/null',
      '--write-out',
      '%{http_code}',
      '-X',
      'POST',
      stack.webhookUrl,
      '-H',
      'Content-Type: application/json',
      '-H',
      'X-GitHub-Event: workflow_job',
      '--data',
      '{}',
    ]);

    expect(stdout).toBe('401');
  });

  it('stops on Ctrl-C, moto included, and removes stack.json', async () => {
    process.kill(-child.pid!, 'SIGINT');

    await exitCode;
    await expect(fetch(`${stack.aws.endpoint}/moto-api/data.json`)).rejects.toThrow();
    expect(existsSync(join(stackDir, 'stack.json'))).toBe(false);
    expect(existsSync(join(stackDir, 'lock'))).toBe(false);
    // The runner container it started (idle: the simulator has no such job) went with it.
    expect(await new Docker().listContainers({ all: true, filters: { label: [`ephemeral-runners.managed-by=${localNamespace(stackDir)}`] } })).toEqual([]);
  }, 30_000);
});
