import type Docker from 'dockerode';
import { cpSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEBIAN_BASE_IMAGE, ensureImage } from '../images/images';
import { OFFICIAL_RUNNER_IMAGE } from '@runners/shared';

/*
 * The simulated runner, installed as the real one is: the release's layout (run.sh, run-helper.sh.template,
 * config.sh, safe_sleep.sh, bin/Runner.Listener; _work and _diag made at run time) in a directory, and an image shaped
 * like the official `ghcr.io/actions/actions-runner` (actions/runner images/Dockerfile): user `runner` (uid 1001) in
 * the groups `sudo` (no password) and `docker` (gid 123), the runner in its home /home/runner (owned runner:docker,
 * mode 777), USER runner, WORKDIR /home/runner, RUNNER_MANUALLY_TRAP_SIG=1 and ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1,
 * and no ENTRYPOINT (its CMD is the base's /bin/bash): whoever starts it must name run.sh, as actions-runner-
 * controller does with `command: ["/home/runner/run.sh"]`. The listener runs on this machine's node (copied in).
 */

export const SIM_RUNNER_IMAGE = 'ephemeral-runners/sim-runner:latest';
export const SIM_RUNNER_LAYOUT = resolve(import.meta.dirname, 'layout');
/** The runner's user in the official image. */
export const RUNNER_USER = {
  name: OFFICIAL_RUNNER_IMAGE.user,
  uid: OFFICIAL_RUNNER_IMAGE.uid,
  dockerGid: OFFICIAL_RUNNER_IMAGE.dockerGid,
  home: OFFICIAL_RUNNER_IMAGE.home,
} as const;

/** Unpacks the simulated runner into `dir`, as the release tarball unpacks (file modes kept). */
export function installSimRunner(dir: string): void {
  cpSync(SIM_RUNNER_LAYOUT, dir, { recursive: true });
}

const DOCKERFILE = `FROM ${DEBIAN_BASE_IMAGE}
ENV RUNNER_MANUALLY_TRAP_SIG=1 ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1
COPY node /usr/local/bin/node
RUN groupadd --gid ${RUNNER_USER.dockerGid} docker \\
 && useradd --create-home --uid ${RUNNER_USER.uid} --groups sudo,docker --shell /bin/bash ${RUNNER_USER.name} \\
 && printf '%s\\n' '%sudo ALL=(ALL:ALL) NOPASSWD:ALL' > /etc/sudoers.d/runner \\
 && chmod 777 ${RUNNER_USER.home}
WORKDIR ${RUNNER_USER.home}
COPY --chown=${RUNNER_USER.name}:docker layout/ ${RUNNER_USER.home}/
USER ${RUNNER_USER.name}
`;

/** Builds the simulated runner image (offline, on the Debian base) unless the engine has one of these sources. */
export async function ensureSimRunnerImage(docker: Docker, image = SIM_RUNNER_IMAGE): Promise<void> {
  await ensureImage(docker, { image, dockerfile: DOCKERFILE, context: { layout: SIM_RUNNER_LAYOUT, node: process.execPath } });
}
