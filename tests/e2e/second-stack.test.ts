import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../local/free-port.mjs';
import { startLocalStack, throwawayStack, type LocalStack } from '../../local/stack';
import { DEFAULT_PREFIX, resourceNames } from '../../stacks/resource-names';
import { waitUntil } from '../helpers/simulator';

/*
 * A stack owns what it touches. A second `make local` (what it runs after the build: local/main.ts) started while one
 * runs — same directory, or same ports — refuses with a clear message before touching anything; one with its own
 * directory and ports runs beside it, and stopping it leaves the first one's runners alone.
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const names = resourceNames(DEFAULT_PREFIX);

function makeLocal(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('npx', ['tsx', 'local/main.ts'], { cwd: root, env: { ...process.env, DEMO_JOBS: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('a second local stack', () => {
  let first: LocalStack;
  let place: Awaited<ReturnType<typeof throwawayStack>>;
  const secrets = async () => {
    const ssm = new SSMClient(first.aws.clientConfig);
    const value = async (name: string) => (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter!.Value;
    return [await value(names.webhookSecretParameter), await value(names.githubAppIdParameter), await value(names.githubPrivateKeyParameter)];
  };
  let before: { stackFile: string; secrets: (string | undefined)[]; runners: string[] };

  beforeAll(async () => {
    place = await throwawayStack(root, 'first');
    first = await startLocalStack({ ...place, logLevel: 'ERROR' });
    // A runner busy with a long job: what a careless second stack would kill on its way out.
    await fetch(`${first.sim!.url}/_sim/runs`, {
      method: 'POST',
      body: JSON.stringify({ owner: 'octo-org', repo: 'app', jobs: [{ labels: ['self-hosted', 'docker'], durationMs: 240_000 }] }),
    });
    await waitUntil('a runner container', async () => (await first.runnerHosts.list()).length === 1, 60_000);
    before = {
      stackFile: readFileSync(join(place.stackDir, 'stack.json'), 'utf8'),
      secrets: await secrets(),
      runners: (await first.runnerHosts.list()).map((h) => h.runnerName),
    };
  }, 180_000);
  afterAll(async () => first?.stop(), 60_000);

  const untouched = async () => {
    expect(readFileSync(join(place.stackDir, 'stack.json'), 'utf8')).toBe(before.stackFile);
    expect(await secrets()).toEqual(before.secrets);
    expect((await first.runnerHosts.list()).map((h) => h.runnerName)).toEqual(before.runners);
    expect((await fetch(first.stack.webhookUrl, { method: 'POST', body: '{}' })).status).toBe(401);
  };

  it('in the same directory: refuses, naming the running one and how to run beside it; the first is untouched', async () => {
    const second = await makeLocal({
      LOCAL_STACK_DIR: place.stackDir,
      LOCAL_HTTP_PORT: String(await freePort()),
      MOTO_PORT: String(await freePort()),
      LOCAL_STATUS_PORT: String(await freePort()),
      LOCAL_SIM_PORT: String(await freePort()),
      WEBHOOK_SECRET: 'another-secret',
    });

    expect(second.code).toBe(1);
    expect(second.output).toContain(`another local stack (pid ${process.pid}`);
    expect(second.output).toContain('LOCAL_STACK_DIR=');
    await untouched();
  }, 90_000);

  it('on the same ports (another directory): refuses before starting anything; the first is untouched', async () => {
    const second = await makeLocal({
      LOCAL_STACK_DIR: mkdtempSync(join(tmpdir(), 'second-')),
      LOCAL_HTTP_PORT: String(place.httpPort),
      MOTO_PORT: String(place.motoPort),
      WEBHOOK_SECRET: 'another-secret',
    });

    expect(second.code).toBe(1);
    expect(second.output).toContain(`port ${place.motoPort} (the AWS emulator) is in use`);
    expect(second.output).not.toContain('EADDRINUSE');
    await untouched();
  }, 90_000);

  it('with its own directory and ports: runs beside the first, and stopping it leaves the first one’s runners alone', async () => {
    const beside = await startLocalStack({ ...(await throwawayStack(root, 'beside')), logLevel: 'ERROR' });
    expect(beside.stack.webhookUrl).not.toBe(first.stack.webhookUrl);
    expect(await beside.runnerHosts.list()).toEqual([]);

    await beside.stop();

    await untouched();
  }, 120_000);
});
