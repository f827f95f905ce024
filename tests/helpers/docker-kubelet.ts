import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerOutput } from '../../sim/images/images';
import type { FakeKubernetes } from './fake-kubernetes';

/*
 * A kubelet on Docker: it runs the pods that the fake Kubernetes API stores, with Kubernetes' semantics where they
 * decide whether a runner pod can start — no kubelet runs here, and a pod spec checked only for field names passed
 * where a real node would refuse it. Facts from the Kubernetes documentation and the kubelet's sources:
 * - `command` replaces the image's ENTRYPOINT and `args` its CMD; `command` without `args` drops the image's CMD
 *   ("Define a command and arguments for a container"); `$(VAR)` in them expands from the container's env, `$$` escapes,
 *   an unknown reference stays as written.
 * - env `valueFrom.secretKeyRef` and `envFrom.secretRef` resolve from Secrets; a missing Secret or key keeps the
 *   container from being created (CreateContainerConfigError) until it appears.
 * - `runAsNonRoot`: the kubelet refuses a container whose user is root, and one whose image user is not numeric when
 *   no `runAsUser` is set (pkg/kubelet/kuberuntime/security_context_others.go, verifyRunAsNonRoot).
 * - `nodeSelector` must match the node (kubernetes.io/os, kubernetes.io/arch): otherwise the pod stays Pending
 *   (Unschedulable); an image of another architecture fails with "exec format error".
 * - Native sidecars (init containers with restartPolicy Always) start before the main containers and are stopped
 *   after they all exit; the pod's phase comes from the main containers. `activeDeadlineSeconds` ends a pod (Failed,
 *   DeadlineExceeded); deleting a pod stops its containers.
 * Host networking: the containers reach the simulator and the local AWS on 127.0.0.1 as the tests do.
 */

export interface PodRun {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  reason?: string;
  message?: string;
  /** Exit codes of the containers that ran, by name. */
  exitCodes: Record<string, number>;
  logs: Record<string, string>;
  /** The order containers started and stopped in: `start dind`, `exit runner`, `stop dind`. */
  events: string[];
}

export interface DockerKubelet {
  pod(namespace: string, name: string): PodRun | undefined;
  stop(): Promise<void>;
}

const KUBELET_LABEL = 'ephemeral-runners.test-kubelet';
const NODE_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
type Env = { name: string; value: string }[];

class ConfigError extends Error {}

/** Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion). */
export function expand(value: string, env: Env): string {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  return value.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => (match === '$$' ? '$' : (vars.get(name!) ?? match)));
}

export function startDockerKubelet(docker: Docker, kubernetes: FakeKubernetes, options: { graceMs?: number } = {}): DockerKubelet {
  const runs = new Map<string, PodRun>();
  const pods = new Map<string, { uid: string; stopped: boolean; containers: Docker.Container[]; workDir: string }>();
  let stopped = false;
  const graceSeconds = Math.ceil((options.graceMs ?? 2_000) / 1000);

  const key = (pod: V1Pod) => `${pod.metadata!.namespace}/${pod.metadata!.name}`;

  function resolveEnv(pod: V1Pod, container: V1Container): Env {
    const secret = (name: string) =>
      kubernetes.secrets(pod.metadata!.namespace).find((s) => s.metadata.name === name) as { data?: Record<string, string> } | undefined;
    const env: Env = [];
    for (const from of container.envFrom ?? []) {
      if (!from.secretRef) continue;
      const found = secret(from.secretRef.name!);
      if (!found) throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      for (const [name, data] of Object.entries(found.data ?? {}))
        env.push({ name: `${from.prefix ?? ''}${name}`, value: Buffer.from(data, 'base64').toString('utf8') });
    }
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (!ref) {
        env.push({ name: variable.name, value: expand(variable.value ?? '', env) });
        continue;
      }
      const data = secret(ref.name!)?.data?.[ref.key];
      if (data === undefined) throw new ConfigError(`secret "${ref.name}" not found or has no key "${ref.key}"`);
      env.push({ name: variable.name, value: Buffer.from(data, 'base64').toString('utf8') });
    }
    return env;
  }

  async function createContainer(pod: V1Pod, container: V1Container, workDir: string): Promise<Docker.Container> {
    const image = await docker.getImage(container.image!).inspect();
    if (image.Architecture !== NODE_ARCH)
      throw new Error(
        `exec ${container.command?.[0] ?? image.Config.Entrypoint?.[0] ?? ''}: exec format error (image ${image.Architecture}, node ${NODE_ARCH})`,
      );
    const env = resolveEnv(pod, container);
    const security = { ...pod.spec!.securityContext, ...container.securityContext } as NonNullable<V1Container['securityContext']> & {
      fsGroup?: number;
      supplementalGroups?: number[];
    };
    const imageUser = image.Config.User ?? '';
    if (security.runAsNonRoot) {
      if (security.runAsUser === 0) throw new ConfigError('container has runAsNonRoot and image will run as root');
      if (security.runAsUser === undefined) {
        const uid = imageUser.split(':')[0] ?? '';
        if (uid === '' || uid === '0' || uid === 'root') throw new ConfigError('container has runAsNonRoot and image will run as root');
        if (!/^\d+$/.test(uid)) throw new ConfigError(`container has runAsNonRoot and image has non-numeric user (${uid}), cannot verify user is non-root`);
      }
    }
    const mounts = (container.volumeMounts ?? []).map((m) => {
      const volume = pod.spec!.volumes?.find((v) => v.name === m.name);
      if (!volume?.emptyDir) throw new ConfigError(`volume "${m.name}" is not an emptyDir`);
      const dir = join(workDir, m.name);
      mkdirSync(dir, { recursive: true });
      // emptyDir is world-writable (0777), as the kubelet makes it.
      chmodSync(dir, 0o777);
      return `${dir}:${m.mountPath}`;
    });
    const memory = container.resources?.limits?.memory;
    return docker.createContainer({
      name: `${pod.metadata!.name}-${container.name}-${Math.random().toString(36).slice(2, 8)}`,
      Image: container.image!,
      ...(container.command ? { Entrypoint: container.command.map((c) => expand(c, env)) } : {}),
      ...(container.args ? { Cmd: container.args.map((a) => expand(a, env)) } : {}),
      Env: env.map((e) => `${e.name}=${e.value}`),
      ...(security.runAsUser !== undefined ? { User: `${security.runAsUser}${security.runAsGroup !== undefined ? `:${security.runAsGroup}` : ''}` } : {}),
      Labels: { [KUBELET_LABEL]: key(pod) },
      HostConfig: {
        NetworkMode: 'host',
        Binds: mounts,
        Privileged: security.privileged ?? false,
        CapDrop: security.capabilities?.drop ?? [],
        SecurityOpt: security.allowPrivilegeEscalation === false ? ['no-new-privileges'] : [],
        ...(security.fsGroup !== undefined || security.supplementalGroups
          ? { GroupAdd: [...(security.supplementalGroups ?? []), ...(security.fsGroup !== undefined ? [security.fsGroup] : [])].map(String) }
          : {}),
        ...(memory ? { Memory: quantityBytes(memory) } : {}),
      },
    });
  }

  async function runPod(pod: V1Pod): Promise<void> {
    const run: PodRun = { phase: 'Pending', exitCodes: {}, logs: {}, events: [] };
    runs.set(key(pod), run);
    const spec = pod.spec!;
    const state = { uid: pod.metadata!.uid!, stopped: false, containers: [] as Docker.Container[], workDir: mkdtempSync(join(tmpdir(), 'pod-')) };
    pods.set(key(pod), state);
    const fail = (reason: string, message: string) => Object.assign(run, { phase: 'Failed', reason, message });
    try {
      // Scheduling: this node is linux/<this machine's arch>.
      const selector = spec.nodeSelector ?? {};
      if ((selector['kubernetes.io/os'] ?? 'linux') !== 'linux' || (selector['kubernetes.io/arch'] ?? NODE_ARCH) !== NODE_ARCH) {
        Object.assign(run, {
          reason: 'Unschedulable',
          message: `0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector (node is linux/${NODE_ARCH})`,
        });
        return;
      }
      const sidecars = (spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
      if ((spec.initContainers ?? []).length !== sidecars.length) throw new ConfigError('only native sidecar init containers are run here');
      // Create every container first: a configuration error keeps the pod Pending, retried (as the kubelet does).
      let created: { container: V1Container; handle: Docker.Container }[] | undefined;
      while (!created && !state.stopped && !stopped) {
        try {
          created = [];
          for (const container of [...sidecars, ...spec.containers]) created.push({ container, handle: await createContainer(pod, container, state.workDir) });
        } catch (error) {
          for (const c of created ?? []) await c.handle.remove({ force: true }).catch(() => undefined);
          created = undefined;
          if (!(error instanceof ConfigError)) return void fail('StartError', (error as Error).message);
          Object.assign(run, { reason: 'CreateContainerConfigError', message: error.message });
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      if (!created) return;
      state.containers = created.map((c) => c.handle);
      const start = async (c: (typeof created)[number]) => {
        try {
          await c.handle.start();
          run.events.push(`start ${c.container.name}`);
        } catch (error) {
          throw new Error(`${c.container.name}: ${(error as { json?: { message?: string } }).json?.message ?? (error as Error).message}`);
        }
      };
      const main = created.filter((c) => !sidecars.includes(c.container));
      try {
        for (const c of created.filter((c) => sidecars.includes(c.container))) await start(c);
        for (const c of main) await start(c);
      } catch (error) {
        return void fail('StartError', (error as Error).message);
      }
      Object.assign(run, { phase: 'Running', reason: undefined, message: undefined });
      const deadline = spec.activeDeadlineSeconds ? setTimeout(() => void end('DeadlineExceeded'), spec.activeDeadlineSeconds * 1000) : undefined;
      let endedBy: string | undefined;
      const end = async (reason: string) => {
        endedBy ??= reason;
        await Promise.all(main.map((c) => c.handle.stop({ t: graceSeconds }).catch(() => undefined)));
      };
      const results = await Promise.all(main.map(async (c) => [c.container.name, ((await c.handle.wait()) as { StatusCode: number }).StatusCode] as const));
      clearTimeout(deadline);
      for (const [name, code] of results) {
        run.exitCodes[name] = code;
        run.events.push(`exit ${name}`);
      }
      // Native sidecars end after the main containers.
      for (const c of created.filter((c) => sidecars.includes(c.container))) {
        await c.handle.stop({ t: graceSeconds }).catch(() => undefined);
        run.events.push(`stop ${c.container.name}`);
      }
      for (const c of created) run.logs[c.container.name] = await containerOutput(c.handle);
      if (endedBy) fail(endedBy, `Pod was active on the node longer than the specified deadline`);
      else run.phase = results.every(([, code]) => code === 0) ? 'Succeeded' : 'Failed';
    } catch (error) {
      fail('StartError', (error as Error).message);
    } finally {
      const status = (pod as { status?: Record<string, unknown> }).status ?? {};
      (pod as { status?: Record<string, unknown> }).status = { ...status, phase: run.phase, reason: run.reason, message: run.message };
    }
  }

  const tick = setInterval(() => {
    if (stopped) return;
    const present = new Set<string>();
    for (const object of kubernetes.pods()) {
      const pod = object as unknown as V1Pod;
      present.add(key(pod));
      const known = pods.get(key(pod));
      if (!known || known.uid !== pod.metadata!.uid) void runPod(pod);
    }
    // A pod deleted from the API: its containers are stopped (grace period), then removed.
    for (const [name, state] of pods) {
      if (present.has(name) || state.stopped) continue;
      state.stopped = true;
      for (const c of state.containers)
        void c
          .stop({ t: graceSeconds })
          .catch(() => undefined)
          .then(() => c.remove({ force: true }).catch(() => undefined));
    }
  }, 100);

  return {
    pod: (namespace, name) => runs.get(`${namespace}/${name}`),
    async stop() {
      stopped = true;
      clearInterval(tick);
      const left = await docker.listContainers({ all: true, filters: { label: [KUBELET_LABEL] } });
      await Promise.all(
        left.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
      for (const state of pods.values()) rmSync(state.workDir, { recursive: true, force: true });
    },
  };
}

function quantityBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) throw new ConfigError(`memory quantity "${quantity}" is not supported here`);
  return Number(match[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1);
}
