import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const SIM_RUNNER_IMAGE = 'ephemeral-runners/sim-runner:latest';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The hash build-image.sh labels the image with: of the runner, its entry script and the build script. */
function sourceHash(): string {
  const hash = createHash('sha256');
  for (const name of ['runner.mjs', 'run.sh', 'build-image.sh']) hash.update(readFileSync(resolve(here, name)));
  return hash.digest('hex').slice(0, 16);
}

/** Builds the simulated runner image (offline, see build-image.sh) unless the engine has one of these sources. */
export async function ensureSimRunnerImage(docker: Docker, image = SIM_RUNNER_IMAGE): Promise<void> {
  const current = await docker
    .getImage(image)
    .inspect()
    .then((i) => i.Config?.Labels?.['ephemeral-runners.sim-runner.source'])
    .catch(() => undefined);
  if (current === sourceHash()) return;
  await promisify(execFile)('bash', [resolve(here, 'build-image.sh'), image]);
}
