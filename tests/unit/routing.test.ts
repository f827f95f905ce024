import { describe, expect, it } from '@jest/globals';
import { createRouter, defaultRunnerLabels, parsePoolsConfig, type PoolsConfigInput } from '@runners/shared';
import { testPoolsInput } from '../helpers/pools';

type PoolInput = PoolsConfigInput['pools'][number];

function dockerPool(name: string, labels: string[], extra: Partial<PoolInput> = {}): PoolInput {
  return { name, host: 'docker', os: 'linux', arch: 'x64', labels, maxRunners: 1, launchesPerMinute: 1, docker: { image: 'x' }, ...extra } as PoolInput;
}

function routeWith(pools: PoolInput[], labels: string[]): string {
  const config = parsePoolsConfig({ ...testPoolsInput(), pools });
  const route = createRouter(config.pools).route(labels);
  return route.kind === 'pool' ? route.pool.name : 'unroutable';
}

describe('label routing', () => {
  it('gives every runner the default labels self-hosted, OS and arch', () => {
    expect(defaultRunnerLabels({ os: 'macos', arch: 'arm64' })).toEqual(['self-hosted', 'macos', 'arm64']);
  });

  it('matches when every job label is a pool label or a default label, case-insensitively', () => {
    const pools = [dockerPool('a', ['docker'])];

    expect(routeWith(pools, ['self-hosted', 'Linux', 'X64', 'DOCKER'])).toBe('a');
    expect(routeWith(pools, ['docker'])).toBe('a');
    expect(routeWith(pools, ['self-hosted'])).toBe('a');
  });

  it('does not match when one job label is missing from the pool', () => {
    const pools = [dockerPool('a', ['docker'])];

    expect(routeWith(pools, ['self-hosted', 'docker', 'gpu'])).toBe('unroutable');
    expect(routeWith(pools, ['self-hosted', 'windows'])).toBe('unroutable');
    expect(routeWith(pools, ['ubuntu-latest'])).toBe('unroutable');
    // Unroutable either way; only a self-hosted one is a cause for alarm.
    const router = createRouter(parsePoolsConfig({ ...testPoolsInput(), pools }).pools);
    expect(router.route(['ubuntu-latest'])).toMatchObject({ kind: 'unroutable', forGitHubHosted: true });
    expect(router.route(['windows-2022'])).toMatchObject({ kind: 'unroutable', forGitHubHosted: true });
    expect(router.route(['self-hosted', 'windows'])).not.toHaveProperty('forGitHubHosted');
    expect(router.route(['self-hosted', 'ubuntu-latest'])).not.toHaveProperty('forGitHubHosted');
  });

  it('routes a job without labels nowhere', () => {
    expect(routeWith([dockerPool('a', ['docker'])], [])).toBe('unroutable');
  });

  it('prefers the higher priority', () => {
    const pools = [dockerPool('low', ['docker']), dockerPool('high', ['docker', 'big'], { priority: 5 })];

    expect(routeWith(pools, ['docker'])).toBe('high');
  });

  it('at equal priority prefers the pool with the fewest extra labels', () => {
    const pools = [dockerPool('wide', ['docker', 'big', 'gpu']), dockerPool('tight', ['docker'])];

    expect(routeWith(pools, ['self-hosted', 'docker'])).toBe('tight');
    expect(routeWith(pools, ['docker', 'gpu'])).toBe('wide');
  });

  it('breaks a full tie by config order', () => {
    const pools = [dockerPool('first', ['docker']), dockerPool('second', ['docker'])];

    expect(routeWith(pools, ['docker'])).toBe('first');
  });

  it('tells OS and arch apart through the default labels', () => {
    const config = parsePoolsConfig({
      ...testPoolsInput(),
      pools: [
        dockerPool('linux-x64', ['build']),
        dockerPool('linux-arm', ['build'], { arch: 'arm64' }),
        {
          name: 'win',
          host: 'ec2',
          os: 'windows',
          arch: 'x64',
          labels: ['build'],
          maxRunners: 1,
          launchesPerMinute: 1,
          ec2: { instanceTypes: ['m7i.large'], image: { amiId: 'ami-0123456789abcdef0' } },
        },
      ],
    });
    const router = createRouter(config.pools);
    const name = (labels: string[]) => {
      const route = router.route(labels);
      return route.kind === 'pool' ? route.pool.name : 'unroutable';
    };

    expect(name(['build', 'ARM64'])).toBe('linux-arm');
    expect(name(['build', 'Windows'])).toBe('win');
    expect(name(['build', 'linux', 'x64'])).toBe('linux-x64');
    expect(name(['build', 'macOS'])).toBe('unroutable');
  });
});
