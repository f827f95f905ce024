import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_PREFIX } from '../stacks/resource-names';

/*
 * A local stack owns what it touches: its state directory (a lock file in it, taken before anything starts), its
 * ports (checked free before moto or the HTTP API start, so it never talks to another stack's emulator), and its own
 * label namespace for runner containers (from its directory), so stopping one stack never removes another's runners.
 */

export class LocalStackBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStackBusyError';
  }
}

const BESIDE =
  'to run a second stack beside it, give it its own directory and ports, e.g. LOCAL_STACK_DIR=.local-2 LOCAL_HTTP_PORT=8797 MOTO_PORT=5056 LOCAL_SIM_PORT=8798 LOCAL_STATUS_PORT=8799 make local';

interface LockContent {
  readonly pid: number;
  readonly startedAt: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Takes `<stackDir>/lock` for this process; refuses while another live process holds it. A dead holder's is taken over. */
export function acquireStackLock(stackDir: string): { release(): void } {
  const path = resolve(stackDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() } satisfies LockContent));
      closeSync(fd);
      return {
        release() {
          const holder = readLock(path);
          if (holder?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(path);
      if (holder && holder.pid !== process.pid && alive(holder.pid)) {
        throw new LocalStackBusyError(
          `another local stack (pid ${holder.pid}, started ${holder.startedAt}) is running from ${stackDir}: nothing was started or changed. Stop it first (Ctrl-C in its terminal); ${BESIDE}`,
        );
      }
      // Left by a stack that did not stop cleanly (killed): take it over.
      rmSync(path, { force: true });
    }
  }
  throw new LocalStackBusyError(`could not take the lock ${path}`);
}

function readLock(path: string): LockContent | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockContent;
  } catch {
    return undefined;
  }
}

/** Refuses, before anything starts, a port something already listens on (another stack's moto or API, anything). */
export async function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  await new Promise<void>((done, fail) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new LocalStackBusyError(
              `port ${port} (${what}) is in use, maybe by another local stack: nothing was started or changed. Set ${variable} to a free port; ${BESIDE}`,
            )
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => done()));
  });
}

/** The label namespace of a stack's runner containers (and its deployment id): one per state directory. */
export function localNamespace(stackDir: string): string {
  return `${DEFAULT_PREFIX}-${createHash('sha256').update(realpathSync(stackDir)).digest('hex').slice(0, 8)}`;
}
