import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { JIT_STARTED, JitParameters, type RunnerInvocation } from '@runners/shared';
import type { Host, HostRef, HostSpec } from './host';

/*
 * A Lambda invocation per runner (functions/runner-lambda): the JIT config goes to an SSM SecureString named for
 * the runner, then the pool's runner function is invoked asynchronously with that name. The parameter is the host:
 * the runner Lambda replaces the config with STARTED when it begins and deletes the parameter when the runner exits,
 * so list() sees pending and running runners, and one whose Lambda was stopped by its timeout (the parameter stays
 * until teardown or the reconciler deletes it). A running invocation cannot be stopped from outside; teardown deletes
 * the runner's registration first, and the function's timeout (at most 15 minutes) bounds the rest.
 */

export interface LambdaHostOptions {
  readonly lambda: LambdaClient;
  readonly ssm: SSMClient;
  /** `/<stack prefix>`: parameters go under `<prefix>/lambda-runners/`. */
  readonly parameterPrefix: string;
  /** The runner function of a pool, from the stacks. */
  readonly functionName: (pool: string) => string;
}

export class LambdaHost implements Host {
  readonly kind = 'lambda' as const;
  private readonly jit: JitParameters;

  constructor(private readonly options: LambdaHostOptions) {
    this.jit = new JitParameters(options.ssm, `${options.parameterPrefix}/lambda-runners`);
  }

  async create(spec: HostSpec): Promise<HostRef> {
    if (spec.pool.host !== 'lambda') throw new Error(`pool ${spec.pool.name} is not a lambda pool`);
    const ref: HostRef = { id: this.jit.name(spec.runnerName), runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId };
    const owner = { pool: spec.pool.name, jobId: spec.jobId };
    if ((await this.jit.put(spec.runnerName, spec.encodedJitConfig, owner, { overwrite: false })) === 'exists') {
      // An earlier attempt got this far. Started: that is the host. Not yet: invoke again — a second invocation
      // of the same runner finds the config spent and ends at once.
      if ((await this.jit.read(spec.runnerName)) === JIT_STARTED) return ref;
    }
    const payload: RunnerInvocation = { runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId, ...(spec.traceHeader ? { traceHeader: spec.traceHeader } : {}) };
    const { StatusCode, FunctionError } = await this.options.lambda.send(
      new InvokeCommand({ FunctionName: this.options.functionName(spec.pool.name), InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    if (StatusCode !== 202 || FunctionError) throw new Error(`invoking the runner Lambda of pool ${spec.pool.name} answered ${StatusCode} ${FunctionError ?? ''}`.trim());
    return ref;
  }

  async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    return this.jit.delete(runnerName);
  }

  async list(): Promise<HostRef[]> {
    return (await this.jit.list()).map((p) => ({ id: this.jit.name(p.runnerName), runnerName: p.runnerName, pool: p.pool, jobId: p.jobId }));
  }
}
