import { describe, expect, it } from '@jest/globals';
import { consoleLine } from '../../local/console-log';

/* What `make local` prints for a function's log line: one readable line for what a user watches, nothing else. */

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 'INFO', timestamp: '2026-12-02T10:11:12.000Z', service: 'orchestrator-docker', ...fields });

describe('consoleLine', () => {
  it.each([
    [
      'a launch',
      line({ message: 'launch', outcome: 'launched', pool: 'docker-linux', runnerName: 'gha-docker-linux-7-1', jobId: 7 }),
      '10:11:12 launch    docker-linux   gha-docker-linux-7-1 (job 7)',
    ],
    [
      'a teardown',
      line({ message: 'teardown', outcome: 'torn-down', reason: 'finished', pool: 'docker-linux', runnerName: 'gha-docker-linux-7-1' }),
      '10:11:12 teardown  docker-linux   gha-docker-linux-7-1 (finished)',
    ],
    [
      'a launch given up',
      line({
        level: 'ERROR',
        message: 'launch failed',
        gaveUp: true,
        failure: { reason: 'no-runner-group', message: 'runner group "x" does not exist' },
        pool: 'p',
        runnerName: 'r',
      }),
      '10:11:12 launch failed p              r: no-runner-group runner group "x" does not exist — gave up on the job',
    ],
    [
      'a notice',
      line({ message: 'check run written', jobId: 9, title: 'No runner pool has every label of this job: [gpu]' }),
      '10:11:12 notice    job 9: No runner pool has every label of this job: [gpu]',
    ],
    [
      'an error with its cause',
      line({
        level: 'ERROR',
        service: 'publisher',
        message: 'publishing failed',
        error: { name: 'StorageError', message: 'writing failed', cause: { name: 'TimeoutError', message: 'socket hang up' } },
      }),
      '10:11:12 error     publisher: publishing failed: StorageError: writing failed (cause: TimeoutError: socket hang up)',
    ],
    [
      'a pass that did something',
      line({ message: 'host rules pass', leakedHostsRemoved: 2, stuckLaunchesRequeued: 0 }),
      '10:11:12 host rules pass: leakedHostsRemoved 2',
    ],
    ['a line that is not JSON', 'something a library printed', 'something a library printed'],
  ])('%s', (_what, raw, expected) => {
    expect(consoleLine(raw)).toBe(expected);
  });

  it.each([
    ['an uneventful pass', line({ message: 'host rules pass', leakedHostsRemoved: 0 })],
    ['a routine info line', line({ message: 'publish round', launched: 3 })],
    ['a launch already done', line({ message: 'launch', outcome: 'already-launched' })],
    ['an empty line', ''],
  ])('nothing for %s', (_what, raw) => {
    expect(consoleLine(raw)).toBeUndefined();
  });
});
