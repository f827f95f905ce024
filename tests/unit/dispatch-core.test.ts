import { describe, expect, it } from '@jest/globals';
import { EMPTY_LAUNCH_LOG, INDEX_LAG_MS, parseRunnerName, poolCapacity, recordLaunches, runnerName, selectFairly, unconfirmedLaunches } from '@runners/shared';

const job = (jobId: number, repository: string) => ({ jobId, repository });

describe('fair share', () => {
  it('takes everything, oldest first, when capacity suffices', () => {
    const queued = [job(1, 'a/x'), job(2, 'a/x'), job(3, 'b/y')];

    expect(selectFairly(queued, 5).map((j) => j.jobId)).toEqual([1, 2, 3]);
  });

  it('interleaves repositories when capacity is short, each repository oldest first', () => {
    const queued = [...Array.from({ length: 200 }, (_, i) => job(i + 1, 'a/big')), job(1000, 'b/small')];

    expect(selectFairly(queued, 5).map((j) => j.jobId)).toEqual([1, 1000, 2, 3, 4]);
  });

  it('gives a freed slot to the repository with the fewest runners in flight', () => {
    const queued = [job(1, 'a/big'), job(2, 'a/big'), job(3, 'b/small')];

    expect(selectFairly(queued, 1, new Map([['a/big', 4]])).map((j) => j.jobId)).toEqual([3]);
    expect(
      selectFairly(
        queued,
        1,
        new Map([
          ['a/big', 0],
          ['b/small', 1],
        ]),
      ).map((j) => j.jobId),
    ).toEqual([1]);
  });

  it('treats repository names case-insensitively and never exceeds capacity', () => {
    const queued = [job(1, 'A/X'), job(2, 'a/x'), job(3, 'b/y'), job(4, 'c/z')];

    const chosen = selectFairly(queued, 3, new Map([['a/x', 1]]));

    expect(chosen.map((j) => j.jobId)).toEqual([3, 4, 1]);
    expect(selectFairly(queued, 0)).toEqual([]);
  });
});

describe('pool capacity', () => {
  const limits = { maxRunners: 20, launchesPerMinute: 30 };
  const t0 = Date.UTC(2030, 0, 1);

  it('is maxRunners minus the runners in flight', () => {
    expect(poolCapacity(limits, 15, EMPTY_LAUNCH_LOG, t0)).toMatchObject({ inFlight: 15, available: 5 });
    expect(poolCapacity(limits, 25, EMPTY_LAUNCH_LOG, t0).available).toBe(0);
  });

  it('caps launches in any 60 s window at launchesPerMinute', () => {
    const log = recordLaunches(
      EMPTY_LAUNCH_LOG,
      Array.from({ length: 25 }, (_, i) => `r${i}`),
      t0,
    );

    expect(poolCapacity({ maxRunners: 100, launchesPerMinute: 30 }, 0, log, t0 + 59_000).available).toBe(5);
    expect(poolCapacity({ maxRunners: 100, launchesPerMinute: 30 }, 0, log, t0 + 60_001).available).toBe(30);
  });

  it('names the recent launches the slots index does not show yet, until the lag window passes', () => {
    const log = recordLaunches(EMPTY_LAUNCH_LOG, ['r1', 'r2', 'r3'], t0);

    expect(unconfirmedLaunches(log, new Set(['r2']), t0 + 1_000)).toEqual(['r1', 'r3']);
    expect(unconfirmedLaunches(log, new Set(), t0 + INDEX_LAG_MS + 1)).toEqual([]);
  });

  it('prunes the log to what still matters and bumps its version', () => {
    const first = recordLaunches(EMPTY_LAUNCH_LOG, ['r1'], t0);
    const later = recordLaunches(first, ['r2'], t0 + 61_000);

    expect(later.version).toBe(2);
    expect(later.perSecond).toEqual([[Math.floor((t0 + 61_000) / 1000), 1]]);
    expect(later.recent.map((l) => l.runnerName)).toEqual(['r2']);
  });
});

describe('runner names', () => {
  const pools = new Set(['docker-linux', 'ec2-mac-os']);

  it('round-trips prefix, pool (with dashes), job id and attempt', () => {
    const name = runnerName('gha', { pool: 'ec2-mac-os', jobId: 12_877_621_891, attempt: 2 });

    expect(name).toBe('gha-ec2-mac-os-12877621891-2');
    expect(parseRunnerName(name, 'gha', pools)).toEqual({ pool: 'ec2-mac-os', jobId: 12_877_621_891, attempt: 2 });
  });

  it.each(['GitHub Actions 5', 'my runner', 'other-docker-linux-1-1', 'gha-unknown-pool-1-1', 'gha-docker-linux-x-1', 'gha-docker-linux-1'])(
    'does not claim %s',
    (name) => {
      expect(parseRunnerName(name, 'gha', pools)).toBeUndefined();
    },
  );
});
