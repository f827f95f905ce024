import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const SIM_RUNNER_IMAGE = 'ephemeral-runners/sim-runner:latest';

/** Builds the simulated runner image (offline, see build-image.sh) unless the engine already has it. */
export async function ensureSimRunnerImage(docker: Docker, image = SIM_RUNNER_IMAGE): Promise<void> {
  try {
    await docker.getImage(image).inspect();
  } catch {
    const script = resolve(fileURLToPath(new URL('.', import.meta.url)), 'build-image.sh');
    await promisify(execFile)('bash', [script, image]);
  }
}
