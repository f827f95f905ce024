import scaleSetExample from '../../local/pools/scaleset';
import mixedExample from '../../local/pools/mixed';
import { describe, expect, it } from '@jest/globals';
import {
  acceptJobEvent,
  createRouter,
  intakeOfJobMessage,
  isScaleSetJobNumber,
  isWarmJobId,
  parsePoolsConfig,
  scaleSetJobNumber,
  scaleSetLabelsOf,
  scaleSetPools,
  warmJobId,
  type JobEvent,
  type JobStore,
  type PoolsConfigInput,
  type ScaleSetJobMessage,
} from '@runners/shared';
import { parseScaleSetMessage } from '@runners/shared/scaleset';
import { testPoolsInput } from '../helpers/pools';

/* The scale-set intake's pure parts: the pools config, the job messages as job events, and the two intakes apart. */

type PoolInput = PoolsConfigInput['pools'][number];
const scaleSetPool = (extra: Partial<PoolInput> = {}): PoolInput =>
  ({
    name: 'lint-ss',
    host: 'docker',
    os: 'linux',
    arch: 'x64',
    labels: ['lint'],
    maxRunners: 20,
    launchesPerMinute: 30,
    intake: 'scaleset',
    scaleSet: { owner: 'octo-org' },
    docker: { image: 'sim-runner:latest' },
    ...extra,
  }) as PoolInput;
const configWith = (...pools: PoolInput[]) => parsePoolsConfig({ ...testPoolsInput(), pools: [...testPoolsInput().pools, ...pools] });
const problems = (input: PoolsConfigInput) => {
  try {
    parsePoolsConfig(input);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('pools config: intake', () => {
  it('takes webhooks by default; a scale-set pool names where its scale set lives, and its name defaults to the pool’s', () => {
    const config = configWith(scaleSetPool());
    expect(config.pools[0]!.intake).toBe('webhook');
    const pool = config.pools.at(-1)!;
    expect(pool.intake).toBe('scaleset');
    expect(scaleSetLabelsOf(pool)).toEqual(['lint-ss', 'lint', 'self-hosted', 'linux', 'x64']);
  });

  it('refuses a scale-set pool without scaleSet, a repo in org scope, warm runners, and scaleSet on a webhook pool', () => {
    const base = testPoolsInput();
    expect(problems({ ...base, pools: [scaleSetPool({ scaleSet: undefined })] })).toMatch(/pools\[0\]\.scaleSet: intake "scaleset" needs scaleSet/);
    expect(problems({ ...base, pools: [scaleSetPool({ scaleSet: { owner: 'octo-org', repo: 'app' } })] })).toMatch(/scaleSet\.repo: org scope/);
    expect(problems({ ...base, pools: [scaleSetPool({ warm: { owner: 'octo-org', minIdle: 1 } })] })).toMatch(
      /pools\[0\]\.warm: warm runners are not supported/,
    );
    const webhook = { ...base.pools[0]!, scaleSet: { owner: 'octo-org' } } as PoolInput;
    expect(problems({ ...base, pools: [webhook] })).toMatch(/scaleSet is for intake "scaleset" only/);
    expect(problems({ ...base, github: { scope: 'repo' }, pools: [scaleSetPool()] })).toMatch(/scaleSet\.repo: repo scope/);
  });

  it('refuses two pools naming the same scale set in one runner group (case-insensitive)', () => {
    const message = problems({
      ...testPoolsInput(),
      pools: [scaleSetPool({ scaleSet: { owner: 'octo-org', name: 'Lint' } }), scaleSetPool({ name: 'lint-2', scaleSet: { owner: 'octo-org', name: 'lint' } })],
    });
    expect(message).toMatch(/pools "lint-ss" and "lint-2" name the same scale set/);
  });

  it('refuses a scale set whose labels fit a webhook pool’s jobs (GitHub would give them to the scale set); distinct labels pass', () => {
    const webhook = { ...testPoolsInput().pools[0]!, name: 'docker-linux', labels: ['docker'] } as PoolInput;
    const covering = scaleSetPool({ name: 'docker-ss', labels: ['docker', 'large'] });
    expect(problems({ ...testPoolsInput(), pools: [webhook, covering] })).toMatch(
      /pools\[1\]\.labels: the scale set of "docker-ss" .* also fits the jobs of webhook pool "docker-linux" \(runs-on: \[self-hosted, docker\]\)/,
    );
    expect(problems({ ...testPoolsInput(), pools: [webhook, scaleSetPool({ name: 'scan-ss', labels: ['scan'] })] })).toBe('');
  });

  it('the shipped scale-set examples are valid: scale-set only (no webhook endpoint) and mixed', () => {
    expect(scaleSetPools(parsePoolsConfig(scaleSetExample).pools).map((p) => p.name)).toEqual(['docker-linux', 'docker-large']);
    const mixed = parsePoolsConfig(mixedExample);
    expect(mixed.pools.map((p) => `${p.name}:${p.intake}`)).toEqual(['docker-linux:webhook', 'docker-large:webhook', 'docker-scan:scaleset']);
  });
});

describe('scale-set job numbers', () => {
  it('are stable per scale-set job id, below the warm slots and far above GitHub’s job ids', () => {
    const id = scaleSetJobNumber('8f5c3c1e-4a2b-4c1d-9e0f-123456789abc', 17);
    expect(scaleSetJobNumber('8f5c3c1e-4a2b-4c1d-9e0f-123456789abc', 99)).toBe(id);
    expect(isScaleSetJobNumber(id)).toBe(true);
    expect(isWarmJobId(id)).toBe(false);
    expect(isScaleSetJobNumber(warmJobId('docker-linux', 1))).toBe(false);
    expect(isScaleSetJobNumber(30_123_456_789)).toBe(false);
    expect(Number.isSafeInteger(id)).toBe(true);
    // Without a jobId (older messages), each assignment is its own record.
    expect(scaleSetJobNumber('', 5)).not.toBe(scaleSetJobNumber('', 6));
  });
});

const message = (extra: Partial<ScaleSetJobMessage>): ScaleSetJobMessage => ({
  messageType: 'JobAssigned',
  runnerRequestId: 41,
  repositoryName: 'app',
  ownerName: 'octo-org',
  jobId: 'job-guid-1',
  jobDisplayName: 'lint',
  workflowRunId: 5001,
  requestLabels: ['self-hosted', 'lint'],
  queueTime: '2026-12-06T10:00:00Z',
  scaleSetAssignTime: '2026-12-06T10:00:02Z',
  ...extra,
});
const context = { installationId: 1000, deliveryId: 'scaleset:3:7', now: new Date('2026-12-06T10:00:05Z') };

describe('job messages as job events', () => {
  it('JobAssigned is a queued job of the scale set, with the assignment it belongs to', () => {
    const intake = intakeOfJobMessage(message({}), context);
    expect(intake).toMatchObject({
      kind: 'event',
      event: {
        action: 'queued',
        jobId: scaleSetJobNumber('job-guid-1', 41),
        runId: 5001,
        owner: 'octo-org',
        repo: 'app',
        installationId: 1000,
        labels: ['self-hosted', 'lint'],
        jobName: 'lint',
        createdAt: '2026-12-06T10:00:00Z',
        deliveryId: 'scaleset:3:7',
        scaleSet: { jobId: 'job-guid-1', runnerRequestId: 41, assignedAtMs: Date.parse('2026-12-06T10:00:02Z') },
      },
    });
    expect((intake as { event: JobEvent }).event.runnerName).toBeUndefined();
  });

  it('JobStarted and JobCompleted with a runner are in_progress and completed, results as webhook conclusions', () => {
    const started = intakeOfJobMessage(
      message({ messageType: 'JobStarted', runnerId: 7, runnerName: 'gha-lint-ss-1-1', runnerAssignTime: '2026-12-06T10:00:09Z' }),
      context,
    );
    expect(started).toMatchObject({
      kind: 'event',
      event: { action: 'in_progress', runnerName: 'gha-lint-ss-1-1', runnerId: 7, startedAt: '2026-12-06T10:00:09Z' },
    });
    for (const [result, conclusion] of [
      ['succeeded', 'success'],
      ['failed', 'failure'],
      ['canceled', 'cancelled'],
      ['Skipped', 'skipped'],
    ]) {
      const done = intakeOfJobMessage(message({ messageType: 'JobCompleted', result, runnerId: 7, runnerName: 'gha-lint-ss-1-1' }), context);
      expect(done).toMatchObject({ kind: 'event', event: { action: 'completed', conclusion, runnerName: 'gha-lint-ss-1-1' } });
    }
  });

  it('JobCompleted without a runner withdraws the assignment it names; without that time it is skipped, not guessed', () => {
    expect(intakeOfJobMessage(message({ messageType: 'JobCompleted', result: 'canceled' }), context)).toEqual({
      kind: 'withdrawal',
      jobId: scaleSetJobNumber('job-guid-1', 41),
      assignedAtMs: Date.parse('2026-12-06T10:00:02Z'),
      scaleSetJobId: 'job-guid-1',
    });
    expect(
      intakeOfJobMessage(message({ messageType: 'JobCompleted', result: 'canceled', scaleSetAssignTime: undefined, queueTime: undefined }), context),
    ).toMatchObject({
      kind: 'skip',
    });
  });

  it('JobAvailable is to be acquired, not recorded', () => {
    expect(intakeOfJobMessage(message({ messageType: 'JobAvailable' }), context)).toEqual({ kind: 'acquire', runnerRequestId: 41 });
  });
});

describe('the queue’s envelope', () => {
  it('parses the job messages from the body string, treats Go’s zero time as absent, counts unknown types', () => {
    const parsed = parseScaleSetMessage({
      messageId: 12,
      messageType: 'RunnerScaleSetJobMessages',
      statistics: { totalAssignedJobs: 2, totalRunningJobs: 1 },
      body: JSON.stringify([
        { messageType: 'JobAssigned', runnerRequestId: 3, repositoryName: 'app', ownerName: 'octo-org', jobId: 'g', runnerAssignTime: '0001-01-01T00:00:00Z' },
        { messageType: 'JobSomethingNew', jobId: 'h' },
      ]),
    });
    expect(parsed.messageId).toBe(12);
    expect(parsed.statistics).toMatchObject({ totalAssignedJobs: 2, totalRunningJobs: 1, totalAvailableJobs: 0 });
    expect(parsed.jobMessages).toHaveLength(1);
    expect(parsed.jobMessages[0]!.runnerAssignTime).toBeUndefined();
    expect(parsed.unknownJobMessages).toBe(1);
  });

  it('takes Go’s nulls and zero values as absent: null labels, a JobCompleted with runnerName "" is a withdrawal', () => {
    const base = { runnerRequestId: 3, repositoryName: 'app', ownerName: 'octo-org', jobId: 'g', scaleSetAssignTime: '2026-12-06T10:00:00Z' };
    const parsed = parseScaleSetMessage({
      messageId: 13,
      messageType: 'RunnerScaleSetJobMessages',
      statistics: {},
      body: JSON.stringify([
        { messageType: 'JobAssigned', ...base, requestLabels: null },
        { messageType: 'JobCompleted', ...base, result: 'canceled', runnerId: 0, runnerName: '' },
      ]),
    });
    expect(parsed.jobMessages[0]!.requestLabels).toEqual([]);
    expect(parsed.jobMessages[1]).toMatchObject({ runnerName: undefined, runnerId: undefined });
    const context = { installationId: 1, deliveryId: 'scaleset:1:13', now: new Date() };
    expect(intakeOfJobMessage(parsed.jobMessages[1]! as ScaleSetJobMessage, context)).toMatchObject({ kind: 'withdrawal', scaleSetJobId: 'g' });
  });

  it('skips a job message that does not parse, saying why, and keeps the rest (one bad item must not block the queue)', () => {
    const parsed = parseScaleSetMessage({
      messageId: 14,
      messageType: 'RunnerScaleSetJobMessages',
      statistics: {},
      body: JSON.stringify([
        { messageType: 'JobStarted', runnerRequestId: 1, repositoryName: 'app', ownerName: 'octo-org', jobId: 'a' },
        { messageType: 'JobAssigned', runnerRequestId: 2, repositoryName: 'app', ownerName: 'octo-org', jobId: 'b' },
      ]),
    });
    expect(parsed.jobMessages.map((m) => m.jobId)).toEqual(['b']);
    expect(parsed.invalidJobMessages).toHaveLength(1);
    expect(parsed.invalidJobMessages[0]).toMatch(/^JobStarted: .*runnerName/);
  });

  it('refuses another envelope type and a body that is not an array', () => {
    expect(() => parseScaleSetMessage({ messageId: 1, messageType: 'Other', body: '[]', statistics: {} })).toThrow(/unexpected message type/);
    expect(() => parseScaleSetMessage({ messageId: 1, messageType: 'RunnerScaleSetJobMessages', body: '{}', statistics: {} })).toThrow(/not an array/);
  });
});

describe('two intakes, one record each', () => {
  const config = configWith(scaleSetPool());
  const written: { jobId: number; pool?: string }[] = [];
  const store = {
    recordWebhook: async (event: JobEvent, routing: { pool?: string }) => {
      written.push({ jobId: event.jobId, pool: routing.pool });
      return { changed: true, state: 'queued' as const, pool: routing.pool };
    },
  } as unknown as JobStore;
  const ports = { config, router: createRouter(config.pools), store, now: () => new Date() };
  const webhook: JobEvent = {
    action: 'queued',
    deliveryId: 'd',
    jobId: 77,
    runId: 1,
    runAttempt: 1,
    owner: 'octo-org',
    repo: 'app',
    labels: ['self-hosted', 'lint'],
    jobName: 'lint',
  };

  it('a webhook of a job routed to a scale-set pool is left to its listener (GitHub sends both)', async () => {
    written.length = 0;
    expect(await acceptJobEvent(webhook, ports)).toMatchObject({ outcome: 'ignored', reason: 'pool lint-ss takes its jobs from its scale set' });
    // Also when it names the scale set itself.
    expect(await acceptJobEvent({ ...webhook, labels: ['lint-ss'] }, ports)).toMatchObject({ outcome: 'ignored' });
    expect(written).toEqual([]);
  });

  it('the listener records its pool’s jobs whatever their labels', async () => {
    written.length = 0;
    expect(await acceptJobEvent({ ...webhook, labels: ['lint-ss'] }, ports, { kind: 'scaleset', pool: 'lint-ss' })).toMatchObject({
      outcome: 'recorded',
      pool: 'lint-ss',
    });
    expect(written).toEqual([{ jobId: 77, pool: 'lint-ss' }]);
  });
});
