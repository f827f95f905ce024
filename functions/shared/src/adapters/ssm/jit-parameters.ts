import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';

/*
 * Where an EC2 runner picks up its JIT config: SSM SecureStrings that only its own instance can read and delete.
 *
 * Size: GitHub's encoded_jit_config is past the 4 KB of a Standard parameter (terraform-aws-github-runner #4613) and
 * Advanced parameters stop at 8 KB (SSM user guide, "Managing parameter tiers"), so a config is split into Standard
 * chunks `<root>/<runner>/jit/<i>` — up to 10, what one GetParameters call reads: 40 KB, no Advanced-tier cost.
 *
 * Isolation: each chunk is tagged `InstanceId=<the instance>`, and the instance role may read and delete a
 * parameter only when `ec2:SourceInstanceARN` (present in every request made with instance-profile credentials,
 * IAM user guide, "AWS global condition context keys") ends with that tag (ABAC on `aws:ResourceTag`, as
 * terraform-aws-github-runner #3918 fixed #2318). So the config is written after the instance exists, and the
 * bootstrap waits for it. A parameter's description records the pool and job of its runner.
 */

/** SSM Standard tier: 4 KB per value (SSM user guide, "Managing parameter tiers"). */
export const JIT_CHUNK_BYTES = 4096;
/** GetParameters reads at most 10 names per call (SSM API reference). */
export const MAX_JIT_CHUNKS = 10;
/** The tag the instance role's policy compares with the caller's instance. */
export const INSTANCE_ID_TAG = 'InstanceId';

export interface JitParameterOwner {
  readonly pool: string;
  readonly jobId: number;
}

export class JitConfigTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`a JIT config of ${bytes} bytes does not fit in ${MAX_JIT_CHUNKS} SSM parameters of ${JIT_CHUNK_BYTES} bytes`);
    this.name = 'JitConfigTooLargeError';
  }
}

export function jitChunks(encodedJitConfig: string): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < encodedJitConfig.length; at += JIT_CHUNK_BYTES) chunks.push(encodedJitConfig.slice(at, at + JIT_CHUNK_BYTES));
  if (chunks.length > MAX_JIT_CHUNKS) throw new JitConfigTooLargeError(encodedJitConfig.length);
  return chunks;
}

export class JitParameters {
  constructor(
    private readonly ssm: SSMClient,
    /** e.g. `/ephemeral-runners/runners`; no trailing slash. */
    private readonly root: string,
  ) {}

  /** The chunks' common prefix: the bootstrap reads `<prefix>/0` … `<prefix>/<n-1>`. */
  prefix(runnerName: string): string {
    return `${this.root}/${runnerName}/jit`;
  }

  /** Stores the config for the instance (idempotent: chunks already there from an earlier attempt are kept). */
  async put(runnerName: string, encodedJitConfig: string, owner: JitParameterOwner, instanceId: string): Promise<void> {
    const chunks = jitChunks(encodedJitConfig);
    await Promise.all(
      chunks.map(async (value, i) => {
        try {
          await this.ssm.send(
            new PutParameterCommand({
              Name: `${this.prefix(runnerName)}/${i}`,
              Value: value,
              Type: 'SecureString',
              Tier: 'Standard',
              Description: JSON.stringify(owner),
              Tags: [{ Key: INSTANCE_ID_TAG, Value: instanceId }],
            }),
          );
        } catch (error) {
          if (!(error instanceof ParameterAlreadyExists)) throw error;
        }
      }),
    );
  }

  /** Removes whatever chunks are left (the bootstrap deletes them once read; a host that never booted leaves them). */
  async delete(runnerName: string): Promise<void> {
    const names = Array.from({ length: MAX_JIT_CHUNKS }, (_, i) => `${this.prefix(runnerName)}/${i}`);
    // Names that do not exist come back in InvalidParameters, not as an error.
    await this.ssm.send(new DeleteParametersCommand({ Names: names }));
  }
}

/*
 * The Lambda host's record of the runners it invoked: a plain String parameter per runner (no secret: the JIT config
 * travels in the invocation itself), named for the runner, with its pool and job. list() describes the hosts from
 * these; teardown and the reconciler delete them.
 */
export class RunnerMarkers {
  constructor(
    private readonly ssm: SSMClient,
    /** e.g. `/ephemeral-runners/lambda-runners`; no trailing slash. */
    private readonly root: string,
  ) {}

  name(runnerName: string): string {
    return `${this.root}/${runnerName}`;
  }

  /** 'exists' when an earlier attempt of the same launch already recorded (and invoked) this runner. */
  async put(runnerName: string, owner: JitParameterOwner): Promise<'created' | 'exists'> {
    try {
      await this.ssm.send(
        new PutParameterCommand({
          Name: this.name(runnerName),
          Value: JSON.stringify(owner),
          Type: 'String',
          Overwrite: false,
          Description: JSON.stringify(owner),
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ParameterAlreadyExists) return 'exists';
      throw error;
    }
  }

  async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    try {
      await this.ssm.send(new DeleteParameterCommand({ Name: this.name(runnerName) }));
      return 'deleted';
    } catch (error) {
      if (error instanceof ParameterNotFound) return 'absent';
      throw error;
    }
  }

  async list(): Promise<(JitParameterOwner & { runnerName: string })[]> {
    const out: (JitParameterOwner & { runnerName: string })[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ssm.send(
        new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'OneLevel', Values: [this.root] }], MaxResults: 50, NextToken }),
      );
      for (const parameter of page.Parameters ?? []) {
        const runnerName = parameter.Name?.slice(this.root.length + 1);
        if (!runnerName || runnerName.includes('/')) continue;
        const owner = parseOwner(parameter.Description);
        out.push({ runnerName, pool: owner?.pool ?? '', jobId: owner?.jobId ?? 0 });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }
}

function parseOwner(description: string | undefined): JitParameterOwner | undefined {
  try {
    const parsed = JSON.parse(description ?? '') as Partial<JitParameterOwner>;
    return typeof parsed.pool === 'string' && typeof parsed.jobId === 'number' ? { pool: parsed.pool, jobId: parsed.jobId } : undefined;
  } catch {
    return undefined;
  }
}
