import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';

/*
 * Where a host that cannot be handed a secret directly picks up its runner's JIT config: an SSM SecureString named
 * for the runner (`<root>/<runner name>/jit`), so user data and invocation payloads carry only the name. EC2
 * bootstraps read and delete it; the Lambda runner reads it and overwrites it with STARTED, so a duplicate
 * invocation finds the config spent. A parameter's description records the pool and job of its runner, which lets
 * list() describe the hosts without reading a secret.
 */

export const JIT_STARTED = 'started';

export interface JitParameterOwner {
  readonly pool: string;
  readonly jobId: number;
}

export class JitParameters {
  constructor(
    private readonly ssm: SSMClient,
    /** e.g. `/ephemeral-runners/runners`; no trailing slash. */
    private readonly root: string,
  ) {}

  name(runnerName: string): string {
    return `${this.root}/${runnerName}/jit`;
  }

  /** 'exists' when a parameter of this name is already there (an earlier attempt of the same launch). */
  async put(runnerName: string, encodedJitConfig: string, owner: JitParameterOwner, options: { overwrite: boolean }): Promise<'created' | 'exists'> {
    try {
      await this.ssm.send(
        new PutParameterCommand({
          Name: this.name(runnerName),
          Value: encodedJitConfig,
          Type: 'SecureString',
          Overwrite: options.overwrite,
          Description: JSON.stringify(owner),
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ParameterAlreadyExists) return 'exists';
      throw error;
    }
  }

  async read(runnerName: string): Promise<string | undefined> {
    try {
      const { Parameter } = await this.ssm.send(new GetParameterCommand({ Name: this.name(runnerName), WithDecryption: true }));
      return Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      throw error;
    }
  }

  /** Replaces the config with STARTED: the secret leaves SSM, the parameter stays as the host's marker. */
  async markStarted(runnerName: string, owner: JitParameterOwner): Promise<void> {
    await this.ssm.send(new PutParameterCommand({ Name: this.name(runnerName), Value: JIT_STARTED, Type: 'SecureString', Overwrite: true, Description: JSON.stringify(owner) }));
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

  /** Every runner with a parameter under the root, and the pool and job it was put for. */
  async list(): Promise<(JitParameterOwner & { runnerName: string })[]> {
    const out: (JitParameterOwner & { runnerName: string })[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ssm.send(
        new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: [this.root] }], MaxResults: 50, NextToken }),
      );
      for (const parameter of page.Parameters ?? []) {
        const runnerName = parameter.Name?.slice(this.root.length + 1).replace(/\/jit$/, '');
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
