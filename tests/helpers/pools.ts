import { cronProblem, parsePoolsConfig, type PoolsConfig, type PoolsConfigInput } from '@runners/shared';

/** A small, valid pools config; tests override parts of it. The example payloads route to these pools. */
export function testPoolsInput(overrides: Partial<PoolsConfigInput> = {}): PoolsConfigInput {
  return {
    github: { scope: 'org', runnerGroup: 'Default' },
    pools: [
      {
        name: 'docker-linux',
        host: 'docker',
        os: 'linux',
        arch: 'x64',
        labels: ['docker'],
        maxRunners: 4,
        launchesPerMinute: 60,
        docker: { image: 'sim-runner:latest' },
      },
      {
        // api.github.com examples with runs-on [self-hosted, k8s]
        name: 'eks-k8s',
        host: 'eks',
        os: 'linux',
        arch: 'x64',
        labels: ['k8s'],
        maxRunners: 10,
        launchesPerMinute: 60,
        eks: { image: 'runner:latest' },
      },
      {
        // the examples with runs-on [gpu, db-app, dc-03]
        name: 'ec2-gpu',
        host: 'ec2',
        os: 'linux',
        arch: 'x64',
        labels: ['gpu', 'db-app', 'dc-03'],
        maxRunners: 2,
        launchesPerMinute: 5,
        ec2: { instanceTypes: ['g5.xlarge'], image: { amiId: 'ami-0123456789abcdef0' } },
      },
    ],
    ...overrides,
  };
}

export function testPoolsConfig(overrides: Partial<PoolsConfigInput> = {}): PoolsConfig {
  return parsePoolsConfig(testPoolsInput(overrides), 'test pools config', { cron: cronProblem });
}

/** A Lambda pool, kept out of the default test config so that the dispatch tests keep their three pools. */
export function lambdaTestPool(): Extract<PoolsConfig['pools'][number], { host: 'lambda' }> {
  const config = testPoolsConfig({
    pools: [
      {
        name: 'lambda-short',
        host: 'lambda',
        os: 'linux',
        arch: 'x64',
        labels: ['lambda'],
        maxRunners: 20,
        launchesPerMinute: 120,
        lambda: { timeoutSeconds: 600 },
      },
    ],
  });
  return config.pools[0] as Extract<PoolsConfig['pools'][number], { host: 'lambda' }>;
}
