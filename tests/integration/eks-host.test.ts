import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { EKS_TOKEN_PREFIX, eksToken } from '@runners/orchestrators/hosts';
import { HOST_LABELS } from '@runners/orchestrators/hosts';
import { eksFixture } from '../helpers/eks';
import { testPoolsConfig } from '../helpers/pools';

/*
 * The EKS host beyond the contract: what the pod and its Secret look like to the API server, what the fake API
 * rejects (so the contract suite means something), and the IAM token — presigned for moto's STS and answered by it,
 * compared with the one botocore builds for `aws eks get-token`.
 */

type EksPool = Extract<ReturnType<typeof testPoolsConfig>['pools'][number], { host: 'eks' }>;
const basePool = testPoolsConfig().pools.find((p) => p.host === 'eks') as EksPool;
const jit = Buffer.from('{"secret":"single-use"}').toString('base64');

describe('EKS host', () => {
  let fixture: Awaited<ReturnType<typeof eksFixture>>;
  beforeAll(async () => {
    fixture = await eksFixture(['gha-runners', 'gpu-runners']);
  });
  afterAll(() => fixture.kubernetes.close());

  it('creates a pod that runs once with the JIT config from a Secret the pod owns', async () => {
    const pool: EksPool = { ...basePool, eks: { ...basePool.eks, cpu: '500m', memory: '1Gi', nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } } };
    const ref = await fixture.host.create({ runnerName: 'gha-eks-k8s-101-1', pool, jobId: 101, encodedJitConfig: jit, traceHeader: 'Root=1-abc;Sampled=1' });

    const pod = stored<V1Pod>(fixture.kubernetes.pods('gha-runners'), 'gha-eks-k8s-101-1');
    const secret = stored<V1Secret>(fixture.kubernetes.secrets('gha-runners'), 'gha-eks-k8s-101-1-jit');
    expect(ref.id).toBe(pod.metadata!.uid);
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.spec!.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'karpenter.sh/capacity-type': 'spot' });
    expect(pod.spec!.containers[0]!.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } });
    expect(pod.metadata!.labels).toEqual({ [HOST_LABELS.managedBy]: fixture.managedBy, [HOST_LABELS.pool]: 'eks-k8s', [HOST_LABELS.job]: '101' });
    expect(pod.metadata!.annotations![HOST_LABELS.trace]).toBe('Root=1-abc;Sampled=1');
    // The config is in the Secret only, never in the pod spec.
    expect(JSON.stringify(pod)).not.toContain(jit);
    // The official image has no ENTRYPOINT: the pod names the runner's script, and passes the config in the env var
    // the runner reads its --jitconfig input from (no arguments).
    expect(pod.spec!.containers[0]!.command).toEqual(['/home/runner/run.sh']);
    expect(pod.spec!.containers[0]!.args).toBeUndefined();
    expect(pod.spec!.containers[0]!.env![0]!.name).toBe('ACTIONS_RUNNER_INPUT_JITCONFIG');
    expect(pod.spec!.containers[0]!.env![0]!.valueFrom!.secretKeyRef).toEqual({ name: 'gha-eks-k8s-101-1-jit', key: 'jitconfig' });
    expect(Buffer.from(secret.data!.jitconfig!, 'base64').toString()).toBe(jit);
    expect(secret.metadata!.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'gha-eks-k8s-101-1', uid: pod.metadata!.uid }]);
    expect(pod.spec!.initContainers).toBeUndefined();
    // The runner: not root, nothing to escalate to; the pod ends at the pool's deadline whatever it does.
    expect(pod.spec!.containers[0]!.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1001,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.spec!.activeDeadlineSeconds).toBe(390 * 60);
  });

  it('adds a Docker-in-Docker native sidecar when the pool asks for it', async () => {
    const pool: EksPool = { ...basePool, arch: 'arm64', eks: { ...basePool.eks, namespace: 'gpu-runners', dockerInDocker: true } };
    await fixture.host.create({ runnerName: 'gha-eks-k8s-102-1', pool, jobId: 102, encodedJitConfig: jit });

    const pod = stored<V1Pod>(fixture.kubernetes.pods('gpu-runners'), 'gha-eks-k8s-102-1');
    expect(pod.spec!.initContainers).toEqual([expect.objectContaining({ name: 'dind', restartPolicy: 'Always', securityContext: { privileged: true } })]);
    // The daemon is reachable only through a Unix socket in a volume of this pod: no TCP listener at all.
    const dind = pod.spec!.initContainers![0]!;
    expect(dind.args).toEqual(['dockerd', '--host=unix:///var/run/dind/docker.sock', '--group=123']);
    expect(JSON.stringify(pod.spec)).not.toMatch(/tcp:\/\/|2375|2376/);
    expect(pod.spec!.containers[0]!.env).toContainEqual({ name: 'DOCKER_HOST', value: 'unix:///var/run/dind/docker.sock' });
    expect(pod.spec!.containers[0]!.volumeMounts).toEqual([{ name: 'docker-socket', mountPath: '/var/run/dind' }]);
    expect(pod.spec!.volumes!.find((v) => v.name === 'docker-socket')).toEqual({ name: 'docker-socket', emptyDir: {} });
    expect(pod.spec!.nodeSelector!['kubernetes.io/arch']).toBe('arm64');
    expect((await fixture.host.list()).map((h) => h.runnerName).sort()).toEqual(['gha-eks-k8s-101-1', 'gha-eks-k8s-102-1']);
  });

  it('resumes a create that stopped after the pod: the second create adds the Secret', async () => {
    await fixture.host.create({ runnerName: 'gha-eks-k8s-103-1', pool: basePool, jobId: 103, encodedJitConfig: jit });
    const secretName = 'gha-eks-k8s-103-1-jit';
    const api = await fixture.api();
    await api.deleteNamespacedSecret({ namespace: 'gha-runners', name: secretName });

    await fixture.host.create({ runnerName: 'gha-eks-k8s-103-1', pool: basePool, jobId: 103, encodedJitConfig: jit });
    expect(fixture.kubernetes.secrets('gha-runners').map((s) => s.metadata.name)).toContain(secretName);
  });

  it('deleting the pod removes its Secret too', async () => {
    expect(await fixture.host.delete('gha-eks-k8s-103-1')).toBe('deleted');
    expect(fixture.kubernetes.secrets().map((s) => s.metadata.name)).not.toContain('gha-eks-k8s-103-1-jit');
    expect(await fixture.host.delete('gha-eks-k8s-103-1')).toBe('absent');
  });

  it.each([
    ['a name that is not a DNS subdomain', { runnerName: 'Gha_EKS_1' }, /metadata.name: Invalid value/],
    ['a CPU quantity the API cannot parse', { pool: { ...basePool, eks: { ...basePool.eks, cpu: 'two' } } }, /resources.requests\[cpu\]: Invalid value/],
    ['a namespace that does not exist', { pool: { ...basePool, eks: { ...basePool.eks, namespace: 'nowhere' } } }, /namespaces .*nowhere.* not found/],
  ])('the fake API rejects what the API server rejects: %s', async (_case, override, message) => {
    const before = fixture.kubernetes.pods().length;
    await expect(
      fixture.host.create({ runnerName: 'gha-eks-k8s-104-1', pool: basePool, jobId: 104, encodedJitConfig: jit, ...override } as never),
    ).rejects.toThrow(message);
    expect(fixture.kubernetes.pods()).toHaveLength(before);
  });

  it('the fake API rejects fields the client models do not know (strict decoding)', async () => {
    // Sent raw: the client itself drops unknown fields while serializing through its models.
    const body = { metadata: { name: 'typo' }, spec: { restartPolicy: 'Never', containers: [{ name: 'runner', image: 'x', imagePullPolicyy: 'Always' }] } };
    const response = await rawRequest(fixture, 'POST', '/api/v1/namespaces/gha-runners/pods', body);
    expect(response.status).toBe(400);
    expect(response.body).toMatch(/strict decoding error/);
    expect(fixture.kubernetes.pods().map((p) => p.metadata.name)).not.toContain('typo');
  });

  it('the fake API refuses a request without an EKS IAM token', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: fixture.kubernetes.url, caData: fixture.kubernetes.certificateAuthority }],
      users: [{ name: 'u', token: 'static-token' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    await expect(kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'gha-runners' })).rejects.toThrow(/401/);
  });
});

describe('EKS IAM token', () => {
  it('is byte for byte the token `aws eks get-token` builds (botocore, the reference signer)', async () => {
    const at = new Date('2026-11-28T01:02:03Z');
    const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' };
    const token = await eksToken({ clusterName: 'runners-prod', region: 'eu-west-1', credentials, now: () => at });

    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    const ours = Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString();
    const reference = execFileSync(
      '.venv/bin/python',
      ['tests/fixtures/eks-token-reference.py', 'runners-prod', 'eu-west-1', credentials.accessKeyId, credentials.secretAccessKey, '20261128T010203Z'],
      { encoding: 'utf8' },
    ).trim();
    expect(ours).toBe(reference);
    const url = new URL(ours);
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('changes with the cluster name it is for', async () => {
    const options = { region: 'us-east-1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' }, now: () => new Date('2026-11-28T00:00:00Z') };
    expect(await eksToken({ ...options, clusterName: 'a' })).not.toBe(await eksToken({ ...options, clusterName: 'b' }));
  });

  it('signs for the regional STS endpoint by default', async () => {
    const token = await eksToken({
      clusterName: 'runners',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' },
      now: () => new Date('2026-11-28T00:00:00Z'),
    });
    const url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261128T000000Z');
  });
});

async function rawRequest(fixture: Awaited<ReturnType<typeof eksFixture>>, method: string, path: string, body: unknown) {
  const url = new URL(path, fixture.kubernetes.url);
  const token = await fixture.token();
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method,
        ca: Buffer.from(fixture.kubernetes.certificateAuthority, 'base64'),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject).end(JSON.stringify(body));
  });
}

function stored<T>(objects: unknown[], name: string): T {
  const found = (objects as { metadata: { name: string } }[]).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`${name} is not stored`);
  return found as T;
}
