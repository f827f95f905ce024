import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MOTO_BIN = resolve(repoRoot, '.venv/bin/moto_server');

export interface MotoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto (from the repo's venv, see local/requirements.txt) on 127.0.0.1 and waits until it answers. */
export async function startMotoServer(port: number, options: { quiet?: boolean } = {}): Promise<MotoServer> {
  if (!existsSync(MOTO_BIN)) throw new Error(`${MOTO_BIN} not found: run "make install" (creates the moto venv)`);
  const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: options.quiet ? 'ignore' : ['ignore', 'ignore', 'inherit'],
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await waitUntilReady(endpoint, child, exited);
  return { endpoint, stop: () => stopChild(child, exited) };
}

async function waitUntilReady(endpoint: string, child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  let dead: number | null | undefined;
  void exited.then((code) => (dead = code));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (dead !== undefined) throw new Error(`moto server exited with code ${dead} before answering (port in use?)`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`moto server did not answer at ${endpoint} within 30 s`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
