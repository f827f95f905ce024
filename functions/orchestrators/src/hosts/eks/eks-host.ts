import type { V1Pod } from '@kubernetes/client-node';
import { HOST_LABELS, type Host, type HostRef, type HostSpec } from '../host';
import { KubernetesError, type PodsApi } from './eks-client';
import { jitSecret, jitSecretName, runnerPod, type EksPool } from './runner-pod';

/*
 * A pod per runner on an EKS cluster (runner-pod.ts). create: the pod first (the Secret needs its uid to be owned
 * by it), then the Secret; a repeated create finds the pod and makes sure of the Secret, so a crash between the two
 * resumes. The kubelet waits for the Secret before it starts the container.
 */

export interface EksHostOptions {
  /** A client with a fresh IAM token (see eks-client.ts). */
  readonly api: () => Promise<PodsApi>;
  readonly managedBy: string;
  /** The namespaces of the EKS pools: where list() looks. */
  readonly namespaces: readonly string[];
}

const isStatus = (error: unknown, code: number) => error instanceof KubernetesError && error.code === code;

export class EksHost implements Host {
  readonly kind = 'eks' as const;

  constructor(private readonly options: EksHostOptions) {}

  async create(spec: HostSpec): Promise<HostRef> {
    if (spec.pool.host !== 'eks') throw new Error(`pool ${spec.pool.name} is not an eks pool`);
    const eksSpec = spec as HostSpec & { pool: EksPool };
    const api = await this.options.api();
    const namespace = eksSpec.pool.eks.namespace;
    let pod: V1Pod;
    try {
      pod = await api.createNamespacedPod({ namespace, body: runnerPod(eksSpec, this.options.managedBy) });
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      pod = await api.readNamespacedPod({ namespace, name: spec.runnerName });
    }
    try {
      await api.createNamespacedSecret({ namespace, body: jitSecret(eksSpec, this.options.managedBy, pod.metadata!.uid!) });
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
    return { id: pod.metadata!.uid!, runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId };
  }

  async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    const api = await this.options.api();
    let outcome: 'deleted' | 'absent' = 'absent';
    // The pod is in its pool's namespace; pools rarely spread over more than one or two, so ask each.
    for (const namespace of new Set(this.options.namespaces)) {
      try {
        await api.deleteNamespacedPod({ namespace, name: runnerName, propagationPolicy: 'Background' });
        outcome = 'deleted';
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
      try {
        // Owned by the pod, so the cluster collects it; deleting it now closes the window before collection, and
        // removes a Secret whose pod was never created.
        await api.deleteNamespacedSecret({ namespace, name: jitSecretName(runnerName) });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
    }
    return outcome;
  }

  async list(): Promise<HostRef[]> {
    const api = await this.options.api();
    const out: HostRef[] = [];
    for (const namespace of new Set(this.options.namespaces)) {
      let _continue: string | undefined;
      do {
        const page = await api.listNamespacedPod({ namespace, labelSelector: `${HOST_LABELS.managedBy}=${this.options.managedBy}`, limit: 500, _continue });
        for (const pod of page.items) {
          const labels = pod.metadata?.labels ?? {};
          out.push({
            id: pod.metadata!.uid!,
            runnerName: pod.metadata!.name!,
            pool: labels[HOST_LABELS.pool] ?? '',
            jobId: labels[HOST_LABELS.job] ? Number(labels[HOST_LABELS.job]) : undefined,
          });
        }
        _continue = page.metadata?._continue || undefined;
      } while (_continue);
    }
    return out;
  }
}
