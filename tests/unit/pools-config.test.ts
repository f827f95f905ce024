import { describe, expect, it } from '@jest/globals';
import {
  ConfigError,
  DEFAULT_GITHUB_APP,
  EC2_INSTANCES_PER_MINUTE,
  GITHUB_APP_REGISTRATIONS_PER_MINUTE,
  isRepositoryAllowed,
  parsePoolsConfig,
  poolsConfigWarnings,
} from '@runners/shared';
import exampleConfig from '../../pools.config';
import { testPoolsInput } from '../helpers/pools';

/** The config error's issues, as `path: message` pairs. */
function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    parsePoolsConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('config was accepted');
}

function withPool(patch: Record<string, unknown>, index = 0): unknown {
  const input = testPoolsInput();
  const pools = input.pools.map((p, i) => (i === index ? { ...p, ...patch } : p));
  return { ...input, pools };
}

describe('pools config', () => {
  it('accepts the shipped example config, with one pool of each host kind and OS', () => {
    // Act
    const config = parsePoolsConfig(exampleConfig);

    // Assess
    const kinds = config.pools.map((p) => `${p.host}/${p.os}`);
    expect(kinds).toEqual(expect.arrayContaining(['docker/linux', 'eks/linux', 'ec2/linux', 'ec2/windows', 'ec2/macos', 'lambda/linux']));
  });

  it('fills defaults: priority 0, spot market, github.com API', () => {
    const config = parsePoolsConfig(testPoolsInput());

    expect(config.pools[0]!.priority).toBe(0);
    expect(config.github.apiUrl).toBe('https://api.github.com');
    const ec2 = config.pools.find((p) => p.host === 'ec2');
    expect(ec2?.host === 'ec2' && ec2.ec2.market).toBe('spot');
  });

  const invalid: [string, unknown, string, RegExp][] = [
    ['maxRunners of zero', withPool({ maxRunners: 0 }), 'pools[0].maxRunners', />=1/],
    ['maxRunners not a whole number', withPool({ maxRunners: 2.5 }), 'pools[0].maxRunners', /int/i],
    ['launchesPerMinute as a string', withPool({ launchesPerMinute: '10' }), 'pools[0].launchesPerMinute', /number/],
    ['unknown host kind', withPool({ host: 'fargate' }), 'pools[0].host', /docker.*ec2.*eks.*lambda/],
    ['unknown os', withPool({ os: 'solaris' }), 'pools[0].os', /linux/],
    ['unknown arch', withPool({ arch: 'riscv' }), 'pools[0].arch', /x64/],
    ['pool name with capitals', withPool({ name: 'Docker_Linux' }), 'pools[0].name', /lowercase/],
    ['no labels', withPool({ labels: [] }), 'pools[0].labels', /at least one label/],
    ['empty label', withPool({ labels: ['docker', ' '] }), 'pools[0].labels[1]', /empty/],
    ['label with a comma', withPool({ labels: ['a,b'] }), 'pools[0].labels[0]', /comma/],
    ['duplicate label, other case', withPool({ labels: ['docker', 'Docker'] }), 'pools[0].labels[1]', /duplicate label/],
    ['misspelt field', withPool({ maxRunner: 3 }), 'pools[0].maxRunner', /unknown field/],
    ['host settings missing', withPool({ docker: undefined }), 'pools[0].docker', /object/],
    ['windows on docker', withPool({ os: 'windows' }), 'pools[0].os', /needs host "ec2"/],
    ['macOS on a non-mac instance type', withPool({ os: 'macos' }, 2), 'pools[2].ec2.instanceTypes[0]', /mac instance type/],
    [
      'a host resource group on a Linux pool',
      withPool(
        {
          ec2: {
            instanceTypes: ['g5.xlarge'],
            image: { amiId: 'ami-0123456789abcdef0' },
            hostResourceGroupArn: 'arn:aws:resource-groups:us-east-1:123456789012:group/macs',
          },
        },
        2,
      ),
      'pools[2].ec2.hostResourceGroupArn',
      /macOS pools only/,
    ],
    [
      'a host resource group that is not an ARN',
      withPool({ os: 'macos', ec2: { instanceTypes: ['mac2.metal'], image: { amiId: 'ami-0123456789abcdef0' }, hostResourceGroupArn: 'macs' } }, 2),
      'pools[2].ec2.hostResourceGroupArn',
      /resource group ARN/,
    ],
    [
      'lambda timeout over 15 minutes',
      withPool({ host: 'lambda', docker: undefined, lambda: { timeoutSeconds: 1200 } }),
      'pools[0].lambda.timeoutSeconds',
      /900/,
    ],
    ['duplicate pool names', withPool({ name: 'eks-k8s' }), 'pools[1].name', /duplicate pool name/],
    // <prefix>-<pool>-<16-digit job id>-<4-digit attempt>: GitHub allows 64, so 42 characters of prefix and pool at most.
    [
      'a pool name too long for GitHub’s 64-character runner names',
      { ...(withPool({ name: 'docker-linux-large-x64-gpu' }) as object), runnerNamePrefix: 'ephemeral-runner' },
      'pools[0].name',
      /can reach 65 characters; GitHub allows 64: shorten .* by 1/,
    ],
    ['no pools', { ...testPoolsInput(), pools: [] }, 'pools', /at least one pool/],
    ['bad scope', { ...testPoolsInput(), github: { scope: 'enterprise' } }, 'github.scope', /org/],
    ['runner group with repo scope', { ...testPoolsInput(), github: { scope: 'repo', runnerGroup: 'ci' } }, 'github.runnerGroup', /org scope/],
    ['bad API URL', { ...testPoolsInput(), github: { scope: 'org', apiUrl: 'not a url' } }, 'github.apiUrl', /URL/i],
    ['bad allowlist entry', { ...testPoolsInput(), repositories: ['just-a-name'] }, 'repositories[0]', /owner\/repository/],
    ['empty allowlist', { ...testPoolsInput(), repositories: [] }, 'repositories', /omit the field/],
    ['bad AMI id', withPool({ ec2: { instanceTypes: ['g5.xlarge'], image: { amiId: 'ubuntu' } } }, 2), 'pools[2].ec2.image', /./],
    ['not an object at all', 'pools', '(root)', /object/],
  ];

  it.each(invalid)('rejects %s, naming %s', (_title, raw, path, message) => {
    // Act
    const issues = issuesOf(raw);

    // Assess
    const issue = issues.find((i) => i.path === path || i.path.startsWith(`${path}.`) || i.path.startsWith(`${path}[`));
    expect(issue).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('reports every problem at once, in the error message too', () => {
    const raw = withPool({ maxRunners: 0, launchesPerMinute: -1, name: 'X' });

    const issues = issuesOf(raw);

    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['pools[0].maxRunners', 'pools[0].launchesPerMinute', 'pools[0].name']));
    expect(() => parsePoolsConfig(raw, 'pools.config.ts')).toThrow(/^pools\.config\.ts is invalid:\n {2}- pools\[0\]\./);
  });
});

describe('repository allowlist', () => {
  it('admits everything when omitted', () => {
    expect(isRepositoryAllowed({ repositories: undefined }, 'any/repo')).toBe(true);
  });

  it('matches owner/* and exact names, case-insensitively', () => {
    const config = { repositories: ['Octo-Org/*', 'other/one'] };

    expect(isRepositoryAllowed(config, 'octo-org/anything')).toBe(true);
    expect(isRepositoryAllowed(config, 'OTHER/One')).toBe(true);
    expect(isRepositoryAllowed(config, 'other/two')).toBe(false);
    expect(isRepositoryAllowed(config, 'octo-org-fork/x')).toBe(false);
  });
});

describe('GitHub Apps and throughput ceilings', () => {
  const input = testPoolsInput();
  const pool = (name: string, extra: Record<string, unknown>) => ({ ...input.pools[0]!, name, ...extra });
  const issuesWith = (github: Record<string, unknown>, pools: unknown[]) => {
    try {
      parsePoolsConfig({ ...input, github: { scope: 'org', ...github }, pools });
      return [];
    } catch (error) {
      return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it('gives a pool the default App unless it names one of github.apps', () => {
    const config = parsePoolsConfig({ ...input, github: { scope: 'org', apps: ['bulk'] }, pools: [pool('a', {}), pool('b', { githubApp: 'bulk' })] });

    expect(config.pools.map((p) => p.githubApp)).toEqual([DEFAULT_GITHUB_APP, 'bulk']);
  });

  it.each([
    ['an App the config does not list', {}, [pool('a', { githubApp: 'bulk' })], /pools\[0\]\.githubApp: no GitHub App "bulk"/],
    ['"default" among the others', { apps: ['default'] }, [pool('a', {})], /github\.apps\[0\]: "default" is the App that sends the webhooks/],
    ['an App listed twice', { apps: ['bulk', 'bulk'] }, [pool('a', {})], /github\.apps\[1\]: duplicate GitHub App "bulk"/],
    ['a name no parameter path can carry', { apps: ['Bulk_2'] }, [pool('a', {})], /github\.apps\[0\]: expected 1-20 lowercase letters/],
  ])('refuses %s', (_what, github, pools, message) => {
    expect(issuesWith(github, pools).join('\n')).toMatch(message);
  });

  it('warns when the pools of one App may launch more than it can register a minute, and not when spread', () => {
    const crowded = parsePoolsConfig({
      ...input,
      github: { scope: 'org', apps: ['bulk'] },
      pools: [pool('a', { launchesPerMinute: 120 }), pool('b', { launchesPerMinute: 120 })],
    });
    const spread = parsePoolsConfig({
      ...input,
      github: { scope: 'org', apps: ['bulk'] },
      pools: [pool('a', { launchesPerMinute: 120 }), pool('b', { launchesPerMinute: 120, githubApp: 'bulk' })],
    });

    expect(poolsConfigWarnings(crowded)).toEqual([
      expect.stringMatching(
        new RegExp(`pools a, b may launch 240 runners a minute through GitHub App "default", which registers about ${GITHUB_APP_REGISTRATIONS_PER_MINUTE}`),
      ),
    ]);
    expect(poolsConfigWarnings(spread)).toEqual([]);
  });

  it('warns when the EC2 pools may launch more instances a minute than EC2 launches sustained', () => {
    const ec2 = testPoolsInput().pools[2]!;
    const config = parsePoolsConfig({
      ...input,
      github: { scope: 'org', apps: ['bulk'] },
      pools: [
        { ...ec2, name: 'e1', launchesPerMinute: 100 },
        { ...ec2, name: 'e2', launchesPerMinute: 100, githubApp: 'bulk' },
      ],
    });

    expect(poolsConfigWarnings(config)).toEqual([
      expect.stringMatching(new RegExp(`EC2 pools e1, e2 may launch 200 instances a minute; EC2 launches about ${EC2_INSTANCES_PER_MINUTE}`)),
    ]);
  });
});
