// The moto server (AWS emulator) of the local stack and the integration tests. Plain JavaScript because jest's
// globalSetup loads it without a TypeScript transform.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MOTO_BIN = resolve(repoRoot, '.venv/bin/moto_server');

/**
 * Starts moto (from the repo's venv, see local/requirements.txt) on 127.0.0.1 and waits until it answers. Its
 * request log goes to `options.logFile`, or nowhere.
 */
export async function startMotoServer(port, options = {}) {
  if (!existsSync(MOTO_BIN)) throw new Error(`${MOTO_BIN} not found: run "make install" (creates the moto venv)`);
  const log = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  // Its own process group: a Ctrl-C in the terminal reaches the stack, which stops moto last (after the event sources
  // that poll it), instead of killing moto under them. If this process exits without stopping it, it goes too.
  const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', log, log], detached: true });
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  if (typeof log === 'number') closeSync(log);
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise((done) => child.once('exit', (code) => done(code)));
  await waitUntilReady(endpoint, child, exited);
  return {
    endpoint,
    stop: async () => {
      process.off('exit', orphaned);
      await stopChild(child, exited);
    },
  };
}

async function waitUntilReady(endpoint, child, exited) {
  let dead;
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

async function stopChild(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export { freePort } from './free-port.mjs';
