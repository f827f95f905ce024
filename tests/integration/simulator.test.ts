import { afterEach, describe, expect, it } from '@jest/globals';
import { verify } from '@octokit/webhooks-methods';
import { parseWorkflowJobEvent } from '@runners/shared';
import { createSign } from 'node:crypto';
import { ORG, runSimulatedRunner, simControl, simulatorWithClient, waitUntil, webhookReceiver } from '../helpers/simulator';

/* GitHub's semantics, as the simulator must reproduce them for the rest of the system to be tested against it. */

type Jobs = { jobs: { id: number; status: string; conclusion: string | null; runner_name: string | null }[] };

describe('GitHub simulator', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });

  async function setup(options: Parameters<typeof simulatorWithClient>[0] = {}) {
    const receiver = await webhookReceiver();
    const env = await simulatorWithClient({ webhookUrl: receiver.url, webhookSecret: 'shh', ...options });
    cleanup.push(
      () => env.sim.stop(),
      () => receiver.close(),
    );
    const installationId = await env.client.installationId(ORG);
    const jit = (name: string, labels: string[]) => env.client.generateJitConfig(installationId, ORG, { name, labels });
    const queue = (jobs: { labels: string[]; durationMs?: number }[], repo = 'app') =>
      simControl<Jobs>(env.sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo, jobs });
    const job = (id: number) => env.sim.model.jobs.get(id)!;
    return { ...env, receiver, installationId, jit, queue, job };
  }

  it('assigns a job only to a runner whose labels contain all of its labels, case-insensitively', async () => {
    const { jit, queue, job } = await setup();
    const { jobs } = await queue([{ labels: ['self-hosted', 'GPU'] }, { labels: ['Docker'] }]);
    const docker = runSimulatedRunner((await jit('docker-runner', ['self-hosted', 'linux', 'x64', 'docker'])).encodedJitConfig);

    expect(await docker.exited).toBe(0);

    expect(job(jobs[1]!.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'docker-runner' });
    expect(job(jobs[0]!.id)).toMatchObject({ status: 'queued' });
  });

  it('lets any matching runner take any matching job (job stealing), oldest job first', async () => {
    const { jit, queue, job } = await setup();
    const { jobs } = await queue([{ labels: ['docker'] }, { labels: ['docker'] }]);
    const forA = await jit('runner-for-a', ['self-hosted', 'docker']);
    const forB = await jit('runner-for-b', ['self-hosted', 'docker']);

    // B's runner comes up first and takes A, the oldest job.
    expect(await runSimulatedRunner(forB.encodedJitConfig).exited).toBe(0);
    expect(await runSimulatedRunner(forA.encodedJitConfig).exited).toBe(0);

    expect(job(jobs[0]!.id).runnerName).toBe('runner-for-b');
    expect(job(jobs[1]!.id).runnerName).toBe('runner-for-a');
  });

  it('de-registers an ephemeral runner after its one job', async () => {
    const { client, installationId, jit, queue } = await setup();
    await queue([{ labels: ['docker'] }, { labels: ['docker'] }]);
    const { runnerId, encodedJitConfig } = await jit('once', ['self-hosted', 'docker']);

    expect(await runSimulatedRunner(encodedJitConfig).exited).toBe(0);

    expect(await client.getRunner(installationId, ORG, runnerId)).toBeUndefined();
    expect((await client.listRunners(installationId, ORG)).map((r) => r.name)).not.toContain('once');
  });

  it('completes a job cancelled while queued as cancelled, with no runner, and says so by webhook', async () => {
    const { sim, queue, receiver } = await setup();
    const { jobs } = await queue([{ labels: ['docker'] }]);

    await simControl(sim, 'POST', `/_sim/jobs/${jobs[0]!.id}/cancel`);
    await sim.deliveries.idle();

    const completed = receiver.received
      .map((r) => JSON.parse(r.body) as { action: string; workflow_job: { conclusion: string; runner_name: string | null } })
      .find((p) => p.action === 'completed');
    expect(completed?.workflow_job).toMatchObject({ conclusion: 'cancelled', runner_name: null });
  });

  it('cancels a job left queued past the queue timeout', async () => {
    const { queue, job } = await setup({ queueTimeoutMs: 300 });
    const { jobs } = await queue([{ labels: ['nobody-has-this'] }]);

    await waitUntil('the queue timeout', () => job(jobs[0]!.id).status === 'completed', 5_000);

    expect(job(jobs[0]!.id).conclusion).toBe('cancelled');
  });

  it("signs webhooks so that @octokit/webhooks-methods verifies them, in payloads the producer's schema accepts", async () => {
    const { sim, jit, queue, receiver } = await setup();
    await queue([{ labels: ['docker'] }]);
    expect(await runSimulatedRunner((await jit('r1', ['self-hosted', 'docker'])).encodedJitConfig).exited).toBe(0);
    await sim.deliveries.idle();

    expect(receiver.received.map((r) => (JSON.parse(r.body) as { action: string }).action)).toEqual(['queued', 'in_progress', 'completed']);
    for (const delivery of receiver.received) {
      expect(delivery.headers['x-github-event']).toBe('workflow_job');
      expect(await verify('shh', delivery.body, String(delivery.headers['x-hub-signature-256']))).toBe(true);
      expect(await verify('not the secret', delivery.body, String(delivery.headers['x-hub-signature-256']))).toBe(false);
      const event = parseWorkflowJobEvent(JSON.parse(delivery.body), String(delivery.headers['x-github-delivery']));
      expect(event).toMatchObject({ owner: 'octo-org', repo: 'app', labels: ['docker'], installationId: expect.any(Number) });
    }
    const completed = parseWorkflowJobEvent(JSON.parse(receiver.received[2]!.body), 'x');
    expect(completed).toMatchObject({ action: 'completed', runnerName: 'r1', conclusion: 'success' });
  });

  it('keeps the delivery GUID on redelivery', async () => {
    const { sim, client, queue, receiver } = await setup();
    await queue([{ labels: ['docker'] }]);
    await sim.deliveries.idle();
    const [delivery] = await client.listDeliveries();

    await client.redeliver(Number(delivery!.id));
    await sim.deliveries.idle();

    expect(receiver.received.map((r) => r.headers['x-github-delivery'])).toEqual([delivery!.guid, delivery!.guid]);
  });

  it('drops, duplicates and reorders deliveries when told to, recording drops as failed deliveries', async () => {
    const { sim, queue, receiver } = await setup({ seed: 7 });
    await simControl(sim, 'PUT', '/_sim/faults', { webhooks: { drop: 0.3, duplicate: 0.3 } });

    await queue(Array.from({ length: 40 }, () => ({ labels: ['docker'] })));
    await sim.deliveries.idle();

    const stats = sim.stats().deliveries;
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.duplicated).toBeGreaterThan(0);
    expect(receiver.received).toHaveLength(40 - stats.dropped + stats.duplicated);
    expect(sim.deliveries.all.filter((d) => d.status === 'failed to connect to host')).toHaveLength(stats.dropped);
  });

  it('refuses an expired App JWT and one signed with another key, as GitHub does', async () => {
    const { sim } = await setup();
    const jwt = (claims: Record<string, unknown>, key = sim.privateKeyPem) => {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
      return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url')}`;
    };
    const now = Math.floor(Date.now() / 1000);
    const call = (token: string) => fetch(`${sim.url}/app`, { headers: { authorization: `Bearer ${token}` } });
    const { generateKeyPairSync } = await import('node:crypto');
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

    expect((await call(jwt({ iat: now - 30, exp: now + 300, iss: sim.appId }))).status).toBe(200);
    expect((await call(jwt({ iat: now - 900, exp: now - 300, iss: sim.appId }))).status).toBe(401);
    expect((await call(jwt({ iat: now - 30, exp: now + 3600, iss: sim.appId }))).status).toBe(401);
    expect((await call(jwt({ iat: now - 30, exp: now + 300, iss: sim.appId }, otherKey))).status).toBe(401);
    expect((await call('ghs_not-a-jwt')).status).toBe(401);
  });

  it('counts calls per endpoint and per installation, and jobs and runners by state', async () => {
    const { sim, client, installationId, queue } = await setup();
    await queue([{ labels: ['docker'] }]);
    await client.listRunners(installationId, ORG);

    const stats = await simControl<ReturnType<typeof sim.stats>>(sim, 'GET', '/_sim/stats');

    expect(stats.calls['GET /orgs/{owner}/actions/runners']).toBe(1);
    expect(stats.callsByInstallation[String(installationId)]).toBeGreaterThanOrEqual(1);
    expect(stats.jobs).toMatchObject({ queued: 1 });
  });
});
