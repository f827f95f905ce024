import { dockerEngine } from '../hosts/docker-engine';
import { DockerHost } from '../hosts/docker-host';
import { orchestratorHandler } from '../wiring';

/* Lambda entry of the Docker orchestrator (the local stack, single-machine installs): DOCKER_HOST or the socket. */
export const handler = await orchestratorHandler('docker', (environment) => new DockerHost(dockerEngine(), environment.STACK_PREFIX));
