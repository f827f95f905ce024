import { afterEach, describe, expect, it } from '@jest/globals';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/server';
import { webhookReceiver } from '../helpers/simulator';

/*
 * GitHub's limits and its deliveries list, kept by the simulator: the secondary rate limit on points, the registration
 * limit, names longer than GitHub takes, deliveries not yet attempted, redeliveries that fail. Raw requests with a
 * real installation token (no client retries in the way).
 */

describe('GitHub simulator limits', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  async function start(options: SimulatorOptions = {}) {
    const sim: Simulator = await startSimulator({ accounts: ['octo-org'], ...options });
    stops.push(() => sim.stop());
    const auth = createAppAuth({ appId: sim.appId, privateKey: sim.privateKeyPem, request: request.defaults({ baseUrl: sim.url }) });
    const { token } = await auth({ type: 'installation', installationId: 1000 });
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${sim.url}${path}`, {
        method,
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const jit = (name: string) => call('POST', '/orgs/octo-org/actions/runners/generate-jitconfig', { name, runner_group_id: 1, labels: ['self-hosted'] });
    return { sim, call, jit };
  }

  it('refuses writes past 900 points a minute per installation (5 per write, 1 per read) with 403 and retry-after', async () => {
    const { sim, call, jit } = await start();
    for (let i = 0; i < 180; i++) expect((await jit(`r-${i}`)).status).toBe(201);

    const refused = await jit('r-180');
    const read = await call('GET', '/orgs/octo-org/actions/runners');

    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // 900 points spent: even a read (1 point) waits now.
    expect(read.status).toBe(403);
    expect(sim.stats().secondaryRateLimited).toBe(2);
  }, 60_000);

  it('refuses registrations past the limit per organization in 5 minutes (1,500 on GitHub) with 429', async () => {
    const { sim, jit } = await start({ limits: { registrationsPer5Minutes: 3 } });
    for (const name of ['a', 'b', 'c']) expect((await jit(name)).status).toBe(201);

    const refused = await jit('d');

    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(200);
    expect(sim.stats().registrationsLimited).toBe(1);
  });

  it('refuses a runner name longer than 64 characters', async () => {
    const { jit } = await start();
    expect((await jit('x'.repeat(64))).status).toBe(201);
    expect((await jit('y'.repeat(65))).status).toBe(422);
  });

  it('lists only deliveries it attempted, and a redelivery that fails is listed as failed', async () => {
    const receiver = await webhookReceiver();
    stops.push(() => receiver.close());
    const { sim } = await start({ webhookUrl: receiver.url, webhookSecret: 'shh' });
    const list = async () => {
      const jwtAuth = createAppAuth({ appId: sim.appId, privateKey: sim.privateKeyPem });
      const { token } = await jwtAuth({ type: 'app' });
      return (await (await fetch(`${sim.url}/app/hook/deliveries?per_page=100`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        id: number;
        status: string;
        redelivery: boolean;
      }[];
    };
    // Held back 2 s: queued, not attempted yet — not in the list.
    sim.deliveries.faults = { drop: 0, duplicate: 0, reorder: 0, delayMs: 2_000 };
    sim.model.queueRun('octo-org', 'app', 'CI', [{ name: 'build', labels: ['self-hosted'], durationMs: 100, outcome: 'success' }]);
    expect(sim.deliveries.all).toHaveLength(1);
    expect(await list()).toEqual([]);
    await sim.deliveries.idle();
    expect((await list()).map((d) => d.status)).toEqual(['OK']);

    // Every attempt fails now (the endpoint is down): the redelivery is listed, failed.
    sim.deliveries.faults = { drop: 1, duplicate: 0, reorder: 0, delayMs: 0 };
    sim.deliveries.redeliver(sim.deliveries.all[0]!);
    const listed = await list();
    expect(listed[0]).toMatchObject({ redelivery: true, status: 'failed to connect to host' });
    expect(receiver.received).toHaveLength(1);
  }, 30_000);
});
