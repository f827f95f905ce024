import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import type { Pool } from '@runners/shared';
import { Construct } from 'constructs';
import type { Account } from '../account';
import type { LambdaHostResources } from '@runners/orchestrators/contract';
import { runnerLambdaContract } from '@runners/runner-lambda/contract';
import { bindContract, TracedFunction } from '../traced-function';
import type { HostResources } from './host-resources';

/*
 * Lambda pools: the runner image's ECR repository (functions/runner-lambda/Dockerfile, pushed by `make ci-deploy`)
 * and a runner function per pool with the pool's memory, timeout and /tmp size. Asynchronous invocations are not
 * retried: a retry would find the JIT config spent and end at once anyway.
 */

type LambdaPool = Extract<Pool, { host: 'lambda' }>;

export interface LambdaRunnersProps {
  readonly prefix: string;
  readonly account: Account;
  readonly pools: readonly LambdaPool[];
  readonly imageTag: string;
}

export class LambdaRunners extends Construct implements HostResources<LambdaHostResources> {
  readonly repository: EcrRepository;
  readonly functions = new Map<string, TracedFunction>();
  readonly resources: LambdaHostResources;

  constructor(scope: Construct, id: string, props: LambdaRunnersProps) {
    super(scope, id);
    const { prefix, account } = props;
    this.repository = new EcrRepository(this, 'repository', {
      name: `${prefix}-runner-lambda`,
      // A tag names one image for good (the deploy tags with the commit): what a function runs cannot change under it.
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'AES256' }],
      forceDelete: true,
    });
    new EcrLifecyclePolicy(this, 'keep-recent', {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: 'keep the 10 newest images',
            selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
            action: { type: 'expire' },
          },
        ],
      }),
    });
    const runnerMarkers = { name: `/${prefix}/lambda-runners/*`, arn: account.parameterArn(`/${prefix}/lambda-runners/*`) };
    for (const pool of props.pools) {
      const runner = new TracedFunction(this, `${pool.name}-runner`, {
        prefix,
        functionName: `${prefix}-runner-${pool.name}`,
        code: { imageUri: `${this.repository.repositoryUrl}:${props.imageTag}` },
        architecture: pool.arch === 'arm64' ? 'arm64' : 'x86_64',
        memoryMb: pool.lambda.memoryMb,
        timeoutSeconds: pool.lambda.timeoutSeconds,
        ephemeralStorageMb: pool.lambda.ephemeralStorageMb,
        deployment: bindContract(runnerLambdaContract, {}),
        // Not retried: a retry would start a second runner on the same single-use config. A failure record carries
        // the invocation (its JIT config): its queue is readable by no role of the stack, and the config is dead once
        // the host rules remove the never-online registration (boot timeout).
        asyncRetries: 0,
        asyncMaxEventAgeSeconds: 900,
      });
      this.functions.set(pool.name, runner);
    }
    this.resources = {
      runnerFunctions: [...this.functions].map(([pool, f]) => ({ pool, name: f.function.functionName, arn: f.function.arn })),
      runnerMarkers,
    };
  }
}
