import { describe, expect, it } from '@jest/globals';
import { isSpareRunner, wantsRunner } from '@runners/shared';

/* The rules that read a job record: whether it still wants the runner launched for it, whether that runner is spare. */

describe('the runner launched for a record', () => {
  const runner = 'gha-docker-linux-7-1';

  it.each([
    ['its job waits for it', { state: 'dispatched' }, undefined, true],
    ['it runs its job', { state: 'in_progress', runnerName: runner }, undefined, true],
    ['its job runs on another runner (a spare)', { state: 'in_progress', runnerName: 'other' }, undefined, false],
    ['its job ended without it (a spare)', { state: 'completed' }, undefined, false],
    ['it runs another job', { state: 'completed', busyWith: 9 }, 'in_progress', true],
    ['it runs another job whose state is not known', { state: 'completed', busyWith: 9 }, undefined, true],
    ['the other job it ran has completed', { state: 'completed', busyWith: 9 }, 'completed', false],
  ] as const)('is wanted when %s: %s', (_what, record, busyWithState, wanted) => {
    expect(wantsRunner({ launchedRunner: runner, ...record }, runner, busyWithState)).toBe(wanted);
    expect(wantsRunner({ launchedRunner: runner, ...record }, 'another-runner', busyWithState)).toBe(false);
  });

  it('is spare only when its job no longer needs it and GitHub gave it no other', () => {
    expect(isSpareRunner({ launchedRunner: runner, state: 'completed' })).toBe(true);
    expect(isSpareRunner({ launchedRunner: runner, state: 'in_progress', runnerName: 'other' })).toBe(true);
    expect(isSpareRunner({ launchedRunner: runner, state: 'in_progress', runnerName: runner })).toBe(false);
    expect(isSpareRunner({ launchedRunner: runner, state: 'dispatched' })).toBe(false);
    expect(isSpareRunner({ launchedRunner: runner, state: 'completed', busyWith: 9 })).toBe(false);
  });
});
