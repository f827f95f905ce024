import { type RunnerScope } from '@runners/shared';
import { GitHubClient, type GitHubClientOptions } from '@runners/shared/github';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installSimRunner } from '../../sim/runner/image';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/server';

/** The simulator plus the real GitHub client pointed at it, counting calls per operation. */
export async function simulatorWithClient(options: SimulatorOptions = {}, clientOptions: GitHubClientOptions = {}) {
  const sim: Simulator = await startSimulator({ accounts: ['octo-org', 'solo-user'], ...options });
  const calls: Record<string, number> = {};
  const client = new GitHubClient(
    { appId: sim.appId, privateKey: sim.privateKeyPem, baseUrl: sim.url },
    {
      retryAfterBaseValue: 50,
      writeSpacingMs: 0,
      ...clientOptions,
      onCall: (operation, status) => {
        calls[operation] = (calls[operation] ?? 0) + 1;
        clientOptions.onCall?.(operation, status);
      },
    },
  );
  return { sim, client, calls };
}

/** Control API of the simulator. */
export async function simControl<T = unknown>(sim: Simulator, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export const ORG: RunnerScope = { kind: 'org', org: 'octo-org' };

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An HTTP endpoint that records what GitHub (the simulator) delivers to it, answering `status`. */
export async function webhookReceiver(status = 202) {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhook`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Installs the simulated runner in a directory of its own and starts it as a host would: `run.sh --jitconfig …`.
 * This process runs as root here, so it sets RUNNER_ALLOW_RUNASROOT as an operator who means it would (the runner
 * refuses root otherwise). Resolves with run.sh's exit code.
 */
export function runSimulatedRunner(
  encodedJitConfig: string,
  env: Record<string, string> = {},
): { exited: Promise<number | null>; output: () => string; dir: string; kill: (signal?: NodeJS.Signals) => void } {
  let output = '';
  const dir = mkdtempSync(join(tmpdir(), 'sim-runner-'));
  installSimRunner(dir);
  const child = spawn(join(dir, 'run.sh'), ['--jitconfig', encodedJitConfig], {
    cwd: dir,
    detached: true,
    env: { ...process.env, RUNNER_ALLOW_RUNASROOT: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // gone
    }
  };
  return { exited: new Promise((r) => child.once('exit', (code) => r(code))), output: () => output, dir, kill };
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
