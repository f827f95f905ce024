import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseRunnerName, runnerName, wantedIdle, warmJobId, type WarmPoolSettings } from '@runners/shared';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';

const POOLS = new Set(['docker-linux', 'docker-w']);

describe('warm pools: how many idle runners a pool wants', () => {
  const settings: WarmPoolSettings = {
    owner: 'octo-org',
    minIdle: 1,
    idleTimeoutMinutes: 10,
    windows: [
      // Weekdays 08:00-18:00 Berlin time: 4 idle runners.
      { cron: '0 8 * * 1-5', durationMinutes: 600, minIdle: 4, timezone: 'Europe/Berlin' },
      // Release night, Fridays 20:00-22:00 UTC: 6.
      { cron: '0 20 * * 5', durationMinutes: 120, minIdle: 6, timezone: 'UTC' },
    ],
  };

  it.each([
    ['Monday 06:59 UTC (07:59 Berlin): before the window', '2026-11-30T06:59:00Z', 1],
    ['Monday 07:00 UTC (08:00 Berlin): the window opens', '2026-11-30T07:00:00Z', 4],
    ['Monday 16:59 UTC: still open', '2026-11-30T16:59:00Z', 4],
    ['Monday 17:00 UTC (18:00 Berlin): closed', '2026-11-30T17:00:00Z', 1],
    ['Saturday noon: no weekday window', '2026-12-05T12:00:00Z', 1],
    ['Friday 21:00 UTC: the larger window wins', '2026-12-04T21:00:00Z', 6],
  ])('%s', (_name, at, expected) => {
    expect(wantedIdle(settings, new Date(at))).toBe(expected);
  });

  it('a pool without warm settings wants none', () => {
    expect(wantedIdle(undefined, new Date())).toBe(0);
  });
});

describe('warm runner names', () => {
  it('name a warm slot by its number and parse back to its record', () => {
    const jobId = warmJobId('docker-linux', 7);
    const name = runnerName('gha', { pool: 'docker-linux', jobId, attempt: 3 });
    expect(name).toBe('gha-docker-linux-w7-3');
    expect(parseRunnerName(name, 'gha', POOLS)).toEqual({ pool: 'docker-linux', jobId, attempt: 3 });
    // Attempts have 4 digits: a slot relaunched 9,999 times starts over at 1 (the store wraps it).
    expect(parseRunnerName('gha-docker-linux-w7-9999', 'gha', POOLS)).toMatchObject({ attempt: 9_999 });
    expect(parseRunnerName('gha-docker-linux-w7-10000', 'gha', POOLS)).toBeUndefined();
    // A pool whose name ends like a warm slot still parses by its own rules.
    expect(parseRunnerName('gha-docker-w-42-1', 'gha', POOLS)).toEqual({ pool: 'docker-w', jobId: 42, attempt: 1 });
  });

  it('give each pool its own block of ids, apart from GitHub job ids', () => {
    expect(warmJobId('docker-linux', 1)).not.toBe(warmJobId('docker-w', 1));
    expect(warmJobId('docker-linux', 1)).toBeGreaterThan(2 ** 52);
    expect(Number.isSafeInteger(warmJobId('docker-linux', 999))).toBe(true);
    expect(() => warmJobId('docker-linux', 1_000)).toThrow(RangeError);
    // Neither a slot number out of range nor a warm id written as a job id is a name of ours.
    expect(parseRunnerName('gha-docker-linux-w1000-1', 'gha', POOLS)).toBeUndefined();
    expect(parseRunnerName(`gha-docker-linux-${warmJobId('docker-linux', 1)}-1`, 'gha', POOLS)).toBeUndefined();
  });
});

describe('warm pool settings are validated', () => {
  const withWarm = (warm: unknown, scope: 'org' | 'repo' = 'org') => {
    const input = testPoolsInput();
    return () => testPoolsConfig({ github: { scope }, pools: [{ ...input.pools[0]!, warm } as never, ...input.pools.slice(1)] });
  };
  const problems = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
      throw error;
    }
    return [];
  };

  it('accepts a good one', () => {
    expect(
      problems(
        withWarm({ owner: 'octo-org', minIdle: 2, windows: [{ cron: '*/30 6-20 * * 1-5', durationMinutes: 30, minIdle: 4, timezone: 'America/New_York' }] }),
      ),
    ).toEqual([]);
  });

  it.each([
    [
      'a bad cron',
      { owner: 'o', windows: [{ cron: '0 25 * * *', durationMinutes: 60, minIdle: 1 }] },
      'org',
      /pools\[0\]\.warm\.windows\[0\]\.cron: invalid cron "0 25 \* \* \*"/,
    ],
    ['a cron with seconds', { owner: 'o', windows: [{ cron: '0 0 8 * * *', durationMinutes: 60, minIdle: 1 }] }, 'org', /expected 5 cron fields/],
    [
      'an unknown time zone',
      { owner: 'o', windows: [{ cron: '0 8 * * *', durationMinutes: 60, minIdle: 1, timezone: 'Mars/Olympus' }] },
      'org',
      /warm\.windows\[0\]\.timezone: unknown time zone/,
    ],
    ['more warm runners than maxRunners', { owner: 'o', minIdle: 5 }, 'org', /warm\.minIdle: 5 warm runners do not fit in maxRunners 4/],
    ['a window above maxRunners', { owner: 'o', windows: [{ cron: '0 8 * * *', durationMinutes: 60, minIdle: 9 }] }, 'org', /9 warm runners do not fit/],
    ['repo scope without a repository', { owner: 'o', minIdle: 1 }, 'repo', /warm\.repo: repo scope: name the repository/],
    ['org scope with a repository', { owner: 'o', repo: 'r', minIdle: 1 }, 'org', /warm\.repo: org scope/],
    ['a typo', { owner: 'o', minIddle: 1 }, 'org', /warm\.minIddle: unknown field/],
  ])('refuses %s', (_name, warm, scope, message) => {
    expect(problems(withWarm(warm, scope as 'org' | 'repo')).join('\n')).toMatch(message);
  });
});
