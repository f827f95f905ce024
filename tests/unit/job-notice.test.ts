import { describe, expect, it } from '@jest/globals';
import { createRouter, noticeActionOf, noticeText, type NoticeImage } from '@runners/shared';
import { testPoolsConfig } from '../helpers/pools';

/* Which changes of a job record ask for a check run (or its update), and the words of it. */

const config = testPoolsConfig({ repositories: ['octo-org/*'] });
const context = { config, router: createRouter(config.pools) };
const job = (overrides: Partial<NoticeImage> & { labels?: string[]; pool?: string; repo?: string } = {}): NoticeImage => {
  const { labels = ['self-hosted', 'docker'], pool, repo = 'app', ...rest } = overrides;
  return {
    jobId: 1,
    state: 'queued',
    job: {
      runId: 2,
      runAttempt: 1,
      owner: 'octo-org',
      repo,
      labels,
      jobName: 'build',
      firstSeenAt: '2026-12-01T00:00:00Z',
      headSha: 'a'.repeat(40),
      ...(pool ? { pool } : {}),
    },
    ...rest,
  };
};

describe('noticeActionOf', () => {
  it.each([
    ['a queued job no pool can run', undefined, job({ labels: ['self-hosted', 'fpga'] }), { kind: 'open', reason: 'no-pool' }],
    [
      'a launch given up',
      job({ pool: 'docker-linux', state: 'dispatched' }),
      job({ pool: 'docker-linux', state: 'launch_failed' }),
      { kind: 'open', reason: 'launch-gave-up' },
    ],
    [
      'a job moved out of every queue (its pool removed)',
      job({ pool: 'gone', labels: ['self-hosted', 'fpga'] }),
      job({ labels: ['self-hosted', 'fpga'] }),
      { kind: 'open', reason: 'no-pool' },
    ],
    [
      'a noticed job that got its runner',
      job({ notice: { reason: 'waiting', at: 'x', checkRunId: 9 } }),
      job({ state: 'in_progress', runnerName: 'r', notice: { reason: 'waiting', at: 'x', checkRunId: 9 } }),
      { kind: 'resolve', outcome: 'runner' },
    ],
    [
      'a noticed job cancelled while queued',
      job({ notice: { reason: 'no-pool', at: 'x', checkRunId: 9 } }),
      job({ state: 'completed', notice: { reason: 'no-pool', at: 'x', checkRunId: 9 } }),
      { kind: 'resolve', outcome: 'ended' },
    ],
    [
      'a check run recorded after the job started',
      job({ state: 'in_progress', runnerName: 'r', notice: { reason: 'waiting', at: 'x' } }),
      job({ state: 'in_progress', runnerName: 'r', notice: { reason: 'waiting', at: 'x', checkRunId: 9 } }),
      { kind: 'resolve', outcome: 'runner' },
    ],
  ])('%s', (_what, before, after, expected) => {
    expect(noticeActionOf(before, after, context)).toEqual(expected);
  });

  it.each([
    ['a job routed to a pool', undefined, job({ pool: 'docker-linux' })],
    ['a GitHub-hosted job', undefined, job({ labels: ['ubuntu-latest'] })],
    ['an unroutable job already noticed', undefined, job({ labels: ['fpga'], notice: { reason: 'no-pool', at: 'x' } })],
    ['the notice claim itself (a write of the notifier)', job({ labels: ['fpga'] }), job({ labels: ['fpga'], notice: { reason: 'no-pool', at: 'x' } })],
    [
      'a resolved notice',
      job({ notice: { reason: 'waiting', at: 'x', checkRunId: 9 } }),
      job({ state: 'in_progress', runnerName: 'r', notice: { reason: 'waiting', at: 'x', checkRunId: 9, resolvedAt: 'y' } }),
    ],
    ['a later change of a launch_failed job', job({ pool: 'docker-linux', state: 'launch_failed' }), job({ pool: 'docker-linux', state: 'launch_failed' })],
  ])('nothing for %s', (_what, before, after) => {
    expect(noticeActionOf(before, after, context)).toBeUndefined();
  });

  it('tells a repository outside the allowlist apart from unknown labels', () => {
    expect(
      noticeActionOf(undefined, job({ labels: ['docker'], repo: 'app' }), { ...context, config: testPoolsConfig({ repositories: ['other-org/*'] }) }),
    ).toEqual({ kind: 'open', reason: 'not-allowed' });
  });

  it('does nothing when notices are switched off', () => {
    const off = testPoolsConfig({ notices: { checkRuns: false, waitingMinutes: 15, cancelUnroutableJobs: false } });
    expect(noticeActionOf(undefined, job({ labels: ['self-hosted', 'fpga'] }), { config: off, router: createRouter(off.pools) })).toBeUndefined();
  });
});

describe('noticeText', () => {
  it('a long wait at capacity names the pool and its limit', () => {
    const pool = config.pools.find((p) => p.name === 'docker-linux')!;
    const text = noticeText('waiting', job({ pool: 'docker-linux' }), {
      pools: config.pools,
      wait: { inFlight: pool.maxRunners, waitedMinutes: 17 },
      cancelledRun: false,
    });
    expect(text.title).toBe(`Waiting 17 minutes for a runner: all ${pool.maxRunners} runners of pool docker-linux are in use (its maxRunners)`);
  });

  it('keeps the summary within GitHub’s 65,535 characters however many pools there are', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ ...config.pools[0]!, name: `p${i}`, labels: ['x'.repeat(200)] }));
    const text = noticeText('no-pool', job({ labels: ['fpga'] }), { pools: many, cancelledRun: false });
    expect(text.summary.length).toBeLessThanOrEqual(65_535);
    expect(text.summary).toContain('… and 460 more');
  });
});
