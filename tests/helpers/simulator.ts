import { GitHubClient, type GitHubClientOptions, type RunnerScope } from '@runners/shared';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/server';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

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
  const response = await fetch(`${sim.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
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

/** Runs the simulated runner (sim/runner/runner.mjs) as a process, as run.sh would; resolves with its exit code. */
export function runSimulatedRunner(encodedJitConfig: string): { exited: Promise<number | null>; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [resolve(root, 'sim/runner/runner.mjs'), '--jitconfig', encodedJitConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return { exited: new Promise((r) => child.once('exit', (code) => r(code))), output: () => output };
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
