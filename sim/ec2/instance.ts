import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AMI_CONTRACT } from '@runners/orchestrators/contract';
import { containerOutput, DEBIAN_BASE_IMAGE, ensureImage } from '../images/images';
import { SIM_RUNNER_LAYOUT } from '../runner/image';
import { startMetadataService, type InstanceMetadata, type MetadataService } from './imds';

/*
 * An EC2 instance of the AMI the README documents, booted on Docker: the image carries what the AMI contract says
 * (ami-contract.ts: the runner unpacked in /opt/actions-runner owned by the user `runner`, bash, coreutils, sudo, the
 * AWS CLI, `shutdown`), and cloud-init's part: the instance's init reads the user data from its metadata service
 * (IMDSv2, imds.ts) and runs it as root, once. The AWS CLI finds the instance profile's credentials there, as on EC2;
 * two variables point it at this machine instead of 169.254.169.254 and amazonaws.com (AWS_EC2_METADATA_SERVICE_ENDPOINT,
 * AWS_ENDPOINT_URL) — nothing in the user data changes. `shutdown` ends the container as power-off ends the instance.
 * The AWS CLI is v1 (the pinned awscli of local/requirements.txt, installed from wheels fetched on this machine: no
 * registry is reachable from a container); the bootstrap's commands are the same in v2.
 */

export const SIM_AMI_IMAGE = 'ephemeral-runners/sim-ami:latest';
const here = import.meta.dirname;
const repo = resolve(here, '..', '..');
const exec = promisify(execFile);
const linux = AMI_CONTRACT.linux;

/** The AWS CLI's wheels, downloaded once per version into .tools/wheels (pip on this machine reaches PyPI). */
async function awsCliWheels(): Promise<string> {
  const pin = /^awscli==(\S+)$/m.exec(readFileSync(resolve(repo, 'local/requirements.txt'), 'utf8'))?.[1];
  if (!pin) throw new Error('local/requirements.txt pins no awscli version');
  const dir = resolve(repo, '.tools/wheels', `awscli-${pin}`);
  if (existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('awscli-'))) return dir;
  mkdirSync(dir, { recursive: true });
  await exec(resolve(repo, '.venv/bin/pip'), ['download', '--quiet', '--disable-pip-version-check', '--only-binary=:all:', '-d', dir, `awscli==${pin}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return dir;
}

const dockerfile = `FROM ${DEBIAN_BASE_IMAGE}
COPY node /usr/local/bin/node
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/aws-cli \\
 && /opt/aws-cli/bin/pip install --quiet --no-index --find-links /tmp/wheels awscli \\
 && ln -s /opt/aws-cli/bin/aws /usr/local/bin/aws \\
 && rm -rf /tmp/wheels
RUN useradd --create-home --shell /bin/bash ${linux.runnerUser}
COPY --chown=${linux.runnerUser}:${linux.runnerUser} layout/ ${linux.runnerDir}/
COPY cloud-init.py /usr/local/sbin/cloud-init-local
COPY shutdown /usr/sbin/shutdown
ENTRYPOINT ["/usr/local/sbin/cloud-init-local"]
`;

export async function ensureSimAmiImage(docker: Docker): Promise<void> {
  await ensureImage(docker, {
    image: SIM_AMI_IMAGE,
    dockerfile,
    context: {
      node: process.execPath,
      wheels: await awsCliWheels(),
      layout: SIM_RUNNER_LAYOUT,
      'cloud-init.py': join(here, 'cloud-init.py'),
      shutdown: join(here, 'shutdown'),
    },
  });
}

export interface BootedInstance {
  readonly metadata: MetadataService;
  /** Resolves when the instance powered off (its init ended): the exit code and everything it printed. */
  readonly poweredOff: Promise<{ exitCode: number; output: string }>;
  /** Pulls the plug: SIGKILL, as a spot reclaim or a crashed VM. */
  kill(): Promise<void>;
}

/** Boots one instance: its metadata service, then its container; both are gone when it powers off. */
export async function bootInstance(
  docker: Docker,
  options: InstanceMetadata & { readonly awsEndpoint: string; readonly image?: string; readonly labels?: Record<string, string> },
): Promise<BootedInstance> {
  const metadata = await startMetadataService(options);
  const container = await docker.createContainer({
    name: `sim-${options.instanceId}`,
    Image: options.image ?? SIM_AMI_IMAGE,
    Env: [`AWS_EC2_METADATA_SERVICE_ENDPOINT=${metadata.url}/`, `AWS_ENDPOINT_URL=${options.awsEndpoint}`],
    Labels: { 'ephemeral-runners.sim-instance': options.instanceId, ...options.labels },
    HostConfig: { NetworkMode: 'host' },
  });
  await container.start();
  const poweredOff = container
    .wait()
    .then(async (result: { StatusCode: number }) => ({ exitCode: result.StatusCode, output: await containerOutput(container) }))
    .finally(async () => {
      await container.remove({ force: true }).catch(() => undefined);
      await metadata.close();
    });
  return {
    metadata,
    poweredOff,
    kill: async () => {
      await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      await poweredOff.catch(() => undefined);
    },
  };
}
