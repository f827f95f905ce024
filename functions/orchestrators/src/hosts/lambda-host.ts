import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type RunnerInvocation } from '@runners/shared';
import { RunnerMarkers } from '@runners/shared/ssm';
import type { Host, HostRef, HostSpec } from './host';

/*
 * A Lambda invocation per runner (functions/runner-lambda), asynchronous, with the runner's JIT config in the start
 * request: the runner Lambda's role can read no runner's config from anywhere. A marker parameter per runner (no
 * secret: pool and job) is the host that list() sees; teardown and the reconciler delete it. A marker already there
 * means an earlier attempt invoked this runner: it is not invoked again (a second runner on the same config would
 * only wait on GitHub's session conflict); if that attempt died between marker and invoke, the host rules requeue
 * the launch at its boot timeout. A running invocation cannot be stopped from outside; teardown deletes the runner's
 * registration first, and the function's timeout (at most 15 minutes) bounds the rest.
 */

export interface LambdaHostOptions {
  readonly lambda: LambdaClient;
  readonly ssm: SSMClient;
  /** `/<stack prefix>`: markers go under `<prefix>/lambda-runners/`. */
  readonly parameterPrefix: string;
  /** The runner function of a pool, from the stacks. */
  readonly functionName: (pool: string) => string;
}

export class LambdaHost implements Host {
  readonly kind = 'lambda' as const;
  private readonly markers: RunnerMarkers;

  constructor(private readonly options: LambdaHostOptions) {
    this.markers = new RunnerMarkers(options.ssm, `${options.parameterPrefix}/lambda-runners`);
  }

  async create(spec: HostSpec): Promise<HostRef> {
    if (spec.pool.host !== 'lambda') throw new Error(`pool ${spec.pool.name} is not a lambda pool`);
    const ref: HostRef = { id: this.markers.name(spec.runnerName), runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId };
    if ((await this.markers.put(spec.runnerName, { pool: spec.pool.name, jobId: spec.jobId })) === 'exists') return ref;
    const payload: RunnerInvocation = {
      runnerName: spec.runnerName,
      pool: spec.pool.name,
      jobId: spec.jobId,
      encodedJitConfig: spec.encodedJitConfig,
      ...(spec.traceHeader ? { traceHeader: spec.traceHeader } : {}),
    };
    try {
      const { StatusCode, FunctionError } = await this.options.lambda.send(
        new InvokeCommand({ FunctionName: this.options.functionName(spec.pool.name), InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }),
      );
      if (StatusCode !== 202 || FunctionError)
        throw new Error(`invoking the runner Lambda of pool ${spec.pool.name} answered ${StatusCode} ${FunctionError ?? ''}`.trim());
    } catch (error) {
      // Not invoked: the marker goes, so that the next attempt invokes.
      await this.markers.delete(spec.runnerName);
      throw error;
    }
    return ref;
  }

  async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    return this.markers.delete(runnerName);
  }

  async list(): Promise<HostRef[]> {
    return (await this.markers.list()).map((p) => ({ id: this.markers.name(p.runnerName), runnerName: p.runnerName, pool: p.pool, jobId: p.jobId }));
  }
}
