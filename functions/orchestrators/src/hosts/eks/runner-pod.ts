import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { OFFICIAL_RUNNER_IMAGE, type Pool } from '@runners/shared';
import { HOST_LABELS, JIT_CONFIG_ENV, type HostSpec } from '../host';

/*
 * The Kubernetes objects of one runner: a pod that runs the runner once (restartPolicy Never) and a Secret holding the
 * JIT config, owned by the pod so the cluster deletes it with the pod. The image has no ENTRYPOINT (the official
 * one), so `command` names the runner's script; the config reaches the runner as ACTIONS_RUNNER_INPUT_JITCONFIG from
 * the Secret (never in the pod spec, never in a process's arguments).
 */

export type EksPool = Extract<Pool, { host: 'eks' }>;

export const JIT_SECRET_KEY = 'jitconfig';
/** Docker-in-Docker sidecar: a native sidecar (init container, restartPolicy Always) ends with the runner. */
export const DIND_IMAGE = 'docker:27-dind';
/*
 * The sidecar's daemon listens on a Unix socket in a volume only this pod mounts — never TCP: a dockerd on
 * 0.0.0.0:2375 without TLS is root on the node for anything that can reach the pod's IP. The socket's group is the
 * official runner image's `docker` group (gid 123, as actions-runner-controller configures dind), so the runner
 * (uid 1001) can use it.
 */
const DOCKER_SOCKET_DIR = '/var/run/dind';
const DOCKER_GROUP_GID = OFFICIAL_RUNNER_IMAGE.dockerGid;
/** The official runner image's user. */
const RUNNER_UID = OFFICIAL_RUNNER_IMAGE.uid;

export const jitSecretName = (runnerName: string) => `${runnerName}-jit`;

export function runnerLabels(spec: Pick<HostSpec, 'pool' | 'jobId'>, managedBy: string): Record<string, string> {
  return { [HOST_LABELS.managedBy]: managedBy, [HOST_LABELS.pool]: spec.pool.name, [HOST_LABELS.job]: String(spec.jobId) };
}

export function runnerPod(spec: HostSpec & { pool: EksPool }, managedBy: string): V1Pod {
  const settings = spec.pool.eks;
  const dind = settings.dockerInDocker;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.runnerName,
      namespace: settings.namespace,
      labels: runnerLabels(spec, managedBy),
      // A trace header is not a valid label value (";", "="): annotations take any string.
      annotations: { [HOST_LABELS.runner]: spec.runnerName, ...(spec.traceHeader ? { [HOST_LABELS.trace]: spec.traceHeader } : {}) },
    },
    spec: {
      restartPolicy: 'Never',
      // A pod outlives no job: GitHub's longest job (timeout-minutes up to 5 days is not ours to allow by default).
      activeDeadlineSeconds: settings.maxRunMinutes * 60,
      // The runner needs no Kubernetes API access of its own.
      automountServiceAccountToken: false,
      nodeSelector: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': spec.pool.arch === 'arm64' ? 'arm64' : 'amd64', ...settings.nodeSelector },
      containers: [
        {
          name: 'runner',
          image: settings.image,
          command: [settings.runScript],
          env: [
            { name: JIT_CONFIG_ENV, valueFrom: { secretKeyRef: { name: jitSecretName(spec.runnerName), key: JIT_SECRET_KEY } } },
            ...(dind ? [{ name: 'DOCKER_HOST', value: `unix://${DOCKER_SOCKET_DIR}/docker.sock` }] : []),
          ],
          resources: { requests: { cpu: settings.cpu, memory: settings.memory }, limits: { memory: settings.memory } },
          // Not root, no privilege escalation, no capability, the runtime's seccomp profile.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUNNER_UID,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(dind ? { volumeMounts: [{ name: 'docker-socket', mountPath: DOCKER_SOCKET_DIR }] } : {}),
        },
      ],
      ...(dind
        ? {
            initContainers: [
              {
                name: 'dind',
                image: DIND_IMAGE,
                restartPolicy: 'Always',
                securityContext: { privileged: true },
                args: ['dockerd', `--host=unix://${DOCKER_SOCKET_DIR}/docker.sock`, `--group=${DOCKER_GROUP_GID}`],
                // No TLS certificates: nothing listens on TCP.
                env: [{ name: 'DOCKER_TLS_CERTDIR', value: '' }],
                volumeMounts: [
                  { name: 'docker-data', mountPath: '/var/lib/docker' },
                  { name: 'docker-socket', mountPath: DOCKER_SOCKET_DIR },
                ],
              },
            ],
            volumes: [
              { name: 'docker-data', emptyDir: {} },
              { name: 'docker-socket', emptyDir: {} },
            ],
          }
        : {}),
    },
  };
}

export function jitSecret(spec: HostSpec & { pool: EksPool }, managedBy: string, podUid: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: jitSecretName(spec.runnerName),
      namespace: spec.pool.eks.namespace,
      labels: runnerLabels(spec, managedBy),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: spec.runnerName, uid: podUid }],
    },
    stringData: { [JIT_SECRET_KEY]: spec.encodedJitConfig },
  };
}
