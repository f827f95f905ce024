import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parsePoolsConfig, type Pool } from '@runners/shared';
import { type ActionsService, ScaleSetApiError, ScaleSets, scaleSetTargetOf, type MessageSession } from '@runners/shared/scaleset';
import type { Simulator } from '../../sim/server';
import { testPoolsInput } from '../helpers/pools';
import { ORG, simControl, simulatorWithClient } from '../helpers/simulator';

/*
 * The scale-set client against the simulator's scale-set protocol (sim/scale-sets.ts, which refuses what the Actions
 * service refuses): each protocol step, and each failure mode the issue names — session conflicts, a scale set deleted
 * on GitHub's side, broker 5xx, expired tokens, unacknowledged messages coming back, the 50-message cap.
 */

const config = parsePoolsConfig({
  ...testPoolsInput(),
  pools: [
    {
      name: 'lint-ss',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['lint'],
      maxRunners: 200,
      launchesPerMinute: 60,
      intake: 'scaleset',
      scaleSet: { owner: 'octo-org' },
      docker: { image: 'sim-runner:latest' },
    },
  ],
});
const pool = config.pools[0] as Pool;
const target = scaleSetTargetOf(config, pool, 'ephemeral-runners-test');

describe('scale-set client against the simulator', () => {
  let sim: Simulator;
  let scaleSets: ScaleSets;
  let installationId: number;
  let service: ActionsService;
  const calls: string[] = [];
  const sessions: MessageSession[] = [];

  beforeAll(async () => {
    const env = await simulatorWithClient({ scaleSets: { longPollMs: 400, sessionIdleReapMs: 1_500, assignTimeoutMs: 60_000 } });
    sim = env.sim;
    scaleSets = new ScaleSets(env.client, { retryBaseMs: 10, onCall: (operation, status) => calls.push(`${operation} ${status}`) });
    installationId = await env.client.installationId(ORG);
    service = scaleSets.service(installationId, target.scope);
  });
  afterAll(async () => {
    for (const session of sessions) await session.close().catch(() => undefined);
    await sim.stop();
  });

  const open = async (scaleSetId: number) => {
    const session = await service.openSession(scaleSetId, 'test-listener');
    sessions.push(session);
    return session;
  };
  const queue = (count: number, labels = ['self-hosted', 'lint']) =>
    simControl(sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo: 'app', jobs: [{ labels, durationMs: 60_000, matrix: count }] });

  it('connects through the App (registration token → runner-registration), then finds or creates the pool’s scale set', async () => {
    const id = await scaleSets.scaleSetId(installationId, target);
    const made = await service.scaleSet(id);
    expect(made).toMatchObject({ name: 'lint-ss', runnerGroupId: 1 });
    expect(made!.labels.map((l) => l.name)).toEqual(['lint-ss', 'lint', 'self-hosted', 'linux', 'x64', 'ephemeral-runners-test']);
    // Found by name the next time (another process), not created twice.
    expect((await service.ensureScaleSet({ name: 'lint-ss', runnerGroupId: 1, labels: target.labels })).id).toBe(id);
  });

  it('opens one session per scale set: a second one is refused with the conflict until the first ends', async () => {
    const id = await scaleSets.scaleSetId(installationId, target);
    const first = await open(id);
    expect(first.statistics.totalAssignedJobs).toBe(0);
    const conflict = await service.openSession(id, 'another').catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(ScaleSetApiError);
    expect((conflict as ScaleSetApiError).is('RunnerScaleSetSessionConflictException')).toBe(true);
    // Ending it by its id (what a successor does with the id a dead listener left) frees the scale set at once.
    expect(await service.deleteSession(id, first.sessionId)).toBe('deleted');
    expect(await service.deleteSession(id, first.sessionId)).toBe('absent');
    const second = await open(id);
    await second.close();
  });

  it('long-polls: nothing (202) is undefined; queued jobs come as JobAssigned once the capacity was told; acknowledged ones do not return', async () => {
    const id = await scaleSets.scaleSetId(installationId, target);
    const session = await open(id);
    expect(await session.nextMessage({ lastMessageId: 0, maxCapacity: 5 })).toBeUndefined();
    await queue(3);
    const messages = [];
    let last = 0;
    while (messages.flatMap((m) => m.jobMessages).length < 3) {
      const message = await session.nextMessage({ lastMessageId: last, maxCapacity: 5 });
      if (!message) continue;
      messages.push(message);
      last = message.messageId;
    }
    const assigned = messages.flatMap((m) => m.jobMessages);
    expect(assigned.map((m) => m.messageType)).toEqual(['JobAssigned', 'JobAssigned', 'JobAssigned']);
    expect(new Set(assigned.map((m) => m.jobId)).size).toBe(3);
    expect(messages.at(-1)!.statistics.totalAssignedJobs).toBe(3);
    // Not acknowledged: a new poll from the start (a restarted listener) gets the first one again.
    expect((await session.nextMessage({ lastMessageId: 0, maxCapacity: 5 }))!.messageId).toBe(messages[0]!.messageId);
    for (const message of messages) await session.deleteMessage(message.messageId);
    expect(await session.nextMessage({ lastMessageId: 0, maxCapacity: 5 })).toBeUndefined();
    await session.close();
  });

  it('refreshes the session when the queue token expires, without the caller seeing it', async () => {
    const id = await scaleSets.scaleSetId(installationId, target);
    const session = await open(id);
    calls.length = 0;
    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { expireTokens: 'message-queue' });
    expect(await session.nextMessage({ lastMessageId: 0, maxCapacity: 5 })).toBeUndefined();
    expect(calls).toEqual(['GET message 401', 'PATCH runnerscalesets/{id}/sessions/{sessionId} 200', 'GET message 202']);
    await session.close();
  });

  it('connects again when the admin token is refused, and retries the broker’s 5xx', async () => {
    const id = await scaleSets.scaleSetId(installationId, target);
    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { expireTokens: 'admin' });
    calls.length = 0;
    expect((await service.scaleSet(id))!.id).toBe(id);
    expect(calls).toEqual(['GET runnerscalesets/{id} 401', 'GET runnerscalesets/{id} 200']);
    await simControl(sim, 'PUT', '/_sim/scale-sets/faults', { failNext: [{ status: 503, count: 2 }] });
    calls.length = 0;
    expect((await service.scaleSet(id))!.id).toBe(id);
    expect(calls).toEqual(['GET runnerscalesets/{id} 503', 'GET runnerscalesets/{id} 503', 'GET runnerscalesets/{id} 200']);
  });

  it('gives JIT runners of the scale set; a name taken is refused as AgentExistsException; the runner can be removed', async () => {
    const jit = await scaleSets.jitConfig(installationId, target, 'gha-lint-ss-123-1');
    expect(jit.encodedJitConfig.length).toBeGreaterThan(4_096);
    const taken = await scaleSets.jitConfig(installationId, target, 'gha-lint-ss-123-1').catch((error: unknown) => error);
    expect((taken as ScaleSetApiError).is('AgentExistsException')).toBe(true);
    const runner = [...sim.model.runners.values()].find((r) => r.name === 'gha-lint-ss-123-1')!;
    expect(runner.labels).toEqual(expect.arrayContaining(['lint-ss', 'lint', 'self-hosted']));
    expect(await scaleSets.removeRunnerNamed(installationId, target, 'gha-lint-ss-123-1')).toBe('removed');
    expect(await scaleSets.removeRunnerNamed(installationId, target, 'gha-lint-ss-123-1')).toBe('absent');
  });

  it('makes the scale set again when GitHub deleted it', async () => {
    const before = await scaleSets.scaleSetId(installationId, target);
    await simControl(sim, 'DELETE', `/_sim/scale-sets/${before}`);
    const jit = await scaleSets.jitConfig(installationId, target, 'gha-lint-ss-124-1');
    const after = await scaleSets.scaleSetId(installationId, target);
    expect(after).not.toBe(before);
    expect([...sim.model.runners.values()].find((r) => r.id === jit.runnerId)).toBeDefined();
  });

  it('never puts more than 50 job messages in one message', async () => {
    const id = await scaleSets.scaleSetId(installationId, target);
    const session = await open(id);
    await queue(120);
    let seen = 0;
    let last = 0;
    const sizes: number[] = [];
    for (let polls = 0; seen < 120 && polls < 50; polls++) {
      const message = await session.nextMessage({ lastMessageId: last, maxCapacity: 200 });
      if (!message) continue;
      sizes.push(message.jobMessages.length);
      seen += message.jobMessages.filter((m) => m.messageType === 'JobAssigned').length;
      await session.deleteMessage(message.messageId);
      last = message.messageId;
    }
    expect(seen).toBeGreaterThanOrEqual(120);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    await session.close();
  });
});
