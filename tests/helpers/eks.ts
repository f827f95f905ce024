import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import { eksToken } from '@runners/orchestrators/hosts';
import { kubernetesApi } from '@runners/orchestrators/hosts';
import { EksHost } from '@runners/orchestrators/hosts';
import { motoTarget } from './aws';
import { startFakeKubernetes } from './fake-kubernetes';

/** An EksHost on the fake Kubernetes API, authenticated with a real IAM token presigned for moto's STS. */
export async function eksFixture(namespaces = ['gha-runners']) {
  const target = motoTarget();
  const kubernetes = await startFakeKubernetes({ namespaces });
  const clusterName = 'runners-test';
  const token = () => eksToken({ clusterName, region: target.region, credentials: target.clientConfig.credentials, stsEndpoint: target.endpoint });
  const managedBy = `contract-${randomUUID().slice(0, 8)}`;
  const host = new EksHost({
    api: kubernetesApi({ name: clusterName, endpoint: kubernetes.url, certificateAuthority: kubernetes.certificateAuthority }, token),
    managedBy,
    namespaces,
  });
  /** The API as a client with this cluster's IAM token (what kubectl would be). */
  const api = async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: kubernetes.url, caData: kubernetes.certificateAuthority }],
      users: [{ name: 'u', token: await token() }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    return kubeConfig.makeApiClient(CoreV1Api);
  };
  return { host, kubernetes, managedBy, clusterName, token, api };
}
