import type { DockerEngine } from './docker-engine';
import { HOST_LABELS, JIT_CONFIG_ENV, PermanentHostError, type Host, type HostRef, type HostSpec } from './host';

/*
 * A container per runner on one Docker engine: the pool's image, its runner script as the entrypoint (the official
 * image has none) with the JIT config in ACTIONS_RUNNER_INPUT_JITCONFIG (the runner's --jitconfig input), our labels,
 * the pool's CPU and memory limits, removed by the engine when it exits. The image's user: the official one's is
 * `runner`, and the runner refuses root.
 * Host networking: the runner reaches GitHub (or the simulator on 127.0.0.1) as the machine does.
 */

const isStatus = (error: unknown, status: number) => (error as { statusCode?: number } | undefined)?.statusCode === status;

/** The pool's image cannot run on this engine: the launch fails with this, never as a runner that never comes. */
export class HostImageMismatchError extends PermanentHostError {
  constructor(image: string, imageArchitecture: string, engineArchitecture: string, pool: string) {
    super(
      'image-architecture',
      `pool ${pool}: image ${image} is built for ${imageArchitecture}, and pool ${pool} runs on ${engineArchitecture} (its arch): the container would fail with "exec format error"`,
    );
    this.name = 'HostImageMismatchError';
  }
}

/** The pools config's arch in Docker's (and Go's) names. */
const DOCKER_ARCH = { x64: 'amd64', arm64: 'arm64' } as const;

export class DockerHost implements Host {
  readonly kind = 'docker' as const;
  private readonly imageArchitectures = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly docker: DockerEngine,
    /** Tells our containers from another installation's on the same engine. */
    private readonly managedBy: string,
  ) {}

  /**
   * The container's name: the installation's namespace and the runner's name. Two installations on one engine (two
   * local stacks; two deployments sharing a Docker machine) may have runners of the same name (job ids of different
   * GitHubs, or one job seen by both): by name alone one would take the other's container for its own, and remove it.
   */
  private containerName(runnerName: string): string {
    return `${this.managedBy}.${runnerName}`;
  }

  async create(spec: HostSpec): Promise<HostRef> {
    if (spec.pool.host !== 'docker') throw new Error(`pool ${spec.pool.name} is not a docker pool`);
    const settings = spec.pool.docker;
    await this.checkArchitecture(settings.image, spec.pool.arch, spec.pool.name);
    try {
      const id = await this.docker.run({
        name: this.containerName(spec.runnerName),
        Image: settings.image,
        Entrypoint: [settings.runScript],
        Env: [`${JIT_CONFIG_ENV}=${spec.encodedJitConfig}`],
        Labels: {
          [HOST_LABELS.managedBy]: this.managedBy,
          [HOST_LABELS.pool]: spec.pool.name,
          [HOST_LABELS.runner]: spec.runnerName,
          [HOST_LABELS.job]: String(spec.jobId),
          ...(spec.traceHeader ? { [HOST_LABELS.trace]: spec.traceHeader } : {}),
        },
        HostConfig: {
          NetworkMode: 'host',
          AutoRemove: true,
          ...(settings.cpus ? { NanoCpus: Math.round(settings.cpus * 1e9) } : {}),
          ...(settings.memoryMb ? { Memory: settings.memoryMb * 1024 * 1024 } : {}),
        },
      });
      return { id, runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId };
    } catch (error) {
      // The name is taken: a previous create of this runner got this far. Idempotent: that is the host.
      if (!isStatus(error, 409)) throw error;
      const existing = await this.docker.inspectContainer(this.containerName(spec.runnerName));
      if (!existing.State.Running && existing.State.Status === 'created') await this.docker.startContainer(existing.Id);
      return { id: existing.Id, runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId };
    }
  }

  /** An image of another architecture than the pool's would start and die at once (no emulation on a runner host). */
  private async checkArchitecture(image: string, arch: keyof typeof DOCKER_ARCH, pool: string): Promise<void> {
    let known = this.imageArchitectures.get(image);
    if (!known) {
      known = this.docker.imageArchitecture(image).catch(() => undefined);
      this.imageArchitectures.set(image, known);
    }
    const architecture = await known;
    // Not on the engine yet: asked again next time, so an image built later is checked too.
    if (architecture === undefined) this.imageArchitectures.delete(image);
    // Unknown (not on this engine yet): the create says so itself.
    if (architecture !== undefined && architecture !== DOCKER_ARCH[arch]) throw new HostImageMismatchError(image, architecture, DOCKER_ARCH[arch], pool);
  }

  async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    try {
      await this.docker.removeContainer(this.containerName(runnerName));
      return 'deleted';
    } catch (error) {
      // 404: gone (it exited and was auto-removed); 409: removal already in progress.
      if (isStatus(error, 404) || isStatus(error, 409)) return 'absent';
      throw error;
    }
  }

  async list(): Promise<HostRef[]> {
    const containers = await this.docker.listContainers(`${HOST_LABELS.managedBy}=${this.managedBy}`);
    return containers.map((c) => ({
      id: c.Id,
      runnerName: c.Labels[HOST_LABELS.runner] ?? '',
      pool: c.Labels[HOST_LABELS.pool] ?? '',
      jobId: c.Labels[HOST_LABELS.job] ? Number(c.Labels[HOST_LABELS.job]) : undefined,
    }));
  }
}
