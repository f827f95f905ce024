import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDeliveryLog } from '@runners/shared/dynamodb';
import { redeliverLost, type RedeliverPorts } from '@runners/reconciler';
import { createJobsTable, motoTarget, scanTable } from '../helpers/aws';
import { simControl, simulatorWithClient } from '../helpers/simulator';

/*
 * The reconciler's redelivery pass against the GitHub simulator (which records every delivery attempt and redelivers
 * with the same GUID, like GitHub) and the delivery log on moto.
 */

describe('redelivery of lost webhooks', () => {
  let env: Awaited<ReturnType<typeof simulatorWithClient>>;
  let receiver: Awaited<ReturnType<typeof webhookReceiverWith>>;
  let ports: RedeliverPorts;
  let dynamodb: DynamoDBClient;
  let tableName: string;
  let answer = 202;

  beforeAll(async () => {
    env = await simulatorWithClient();
    receiver = await webhookReceiverWith(() => answer);
    env.sim.setWebhook(receiver.url, 'secret');
    dynamodb = new DynamoDBClient(motoTarget().clientConfig);
    tableName = await createJobsTable(motoTarget(), 'deliveries');
    // The clock runs a minute ahead, so the deliveries just made count as settled.
    ports = {
      github: env.client,
      log: new DynamoDbDeliveryLog(dynamodb, tableName),
      now: () => new Date(Date.now() + 61_000),
      lookbackMs: 60 * 60_000,
      settleMs: 60_000,
      maxRedeliveries: 100,
    };
  });
  afterAll(async () => {
    await env.sim.stop();
    await receiver.close();
  });

  const queueJobs = async (count: number) => {
    await simControl(env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'linux'], durationMs: 100, matrix: count }],
    });
    await env.sim.deliveries.idle();
  };

  it('redelivers each lost workflow_job delivery once, with its GUID; a delivered one never', async () => {
    await queueJobs(2); // delivered
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 1 } });
    await queueJobs(3); // lost
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 0 } });
    const lostGuids = env.sim.deliveries.all
      .filter((d) => d.status !== 'OK')
      .map((d) => d.guid)
      .sort();
    const received = receiver.received.length;

    const report = await redeliverLost(ports);
    await env.sim.deliveries.idle();

    expect(report).toMatchObject({ lost: 3, redelivered: 3, waiting: 0, failed: 0 });
    const redelivered = receiver.received
      .slice(received)
      .map((r) => String(r.headers['x-github-delivery']))
      .sort();
    expect(redelivered).toEqual(lostGuids);
    // Delivered now: the next pass has nothing to do.
    expect(await redeliverLost(ports)).toMatchObject({ lost: 0, redelivered: 0 });
  });

  it('redelivers again a delivery whose redelivery failed too — after its back-off, not on every pass', async () => {
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 1 } });
    await queueJobs(1);
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 0 } });
    answer = 500; // the producer is down: the redelivery fails as well

    const first = await redeliverLost(ports);
    await env.sim.deliveries.idle();
    const second = await redeliverLost(ports);
    answer = 202;
    // Past the first back-off (5 minutes): tried again, and delivered this time.
    const later = { ...ports, now: () => new Date(Date.now() + 61_000 + 5 * 60_000) };
    const third = await redeliverLost(later);
    await env.sim.deliveries.idle();

    expect(first).toMatchObject({ lost: 1, redelivered: 1 });
    expect(second).toMatchObject({ lost: 1, redelivered: 0, waiting: 1 });
    expect(third).toMatchObject({ lost: 1, redelivered: 1 });
    expect(await redeliverLost(later)).toMatchObject({ lost: 0, redelivered: 0 });
    const log = (await scanTable(dynamodb, tableName)).filter((item) => String(item.pk).startsWith('DELIVERY#'));
    expect(log).toHaveLength(4);
    expect(log.find((item) => item.attempts === 2)).toBeDefined();
  });

  it('leaves alone a delivery that may still be in flight', async () => {
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 1 } });
    await queueJobs(1);
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 0 } });

    expect(await redeliverLost({ ...ports, now: () => new Date() })).toMatchObject({ lost: 0, redelivered: 0 });
    // A minute later: lost.
    expect(await redeliverLost(ports)).toMatchObject({ redelivered: 1 });
  });

  it('releases a GUID when GitHub refuses the redelivery, so the next pass tries again at once', async () => {
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 1 } });
    await queueJobs(1);
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 0 } });
    const refusing: RedeliverPorts = {
      ...ports,
      github: { listDeliveries: (o) => env.client.listDeliveries(o), redeliver: async () => Promise.reject(new Error('502 Bad Gateway')) },
    };

    expect(await redeliverLost(refusing)).toMatchObject({ redelivered: 0, failed: 1 });
    expect(await redeliverLost(ports)).toMatchObject({ redelivered: 1 });
  });

  it('finds every lost delivery in a lookback of 3,000 deliveries, the oldest of them the lost ones (not only the newest 1,000)', async () => {
    const before = env.sim.deliveries.all.length;
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 1 } });
    await queueJobs(5); // the oldest: lost
    await simControl(env.sim, 'PUT', '/_sim/faults', { webhooks: { drop: 0 } });
    const lostGuids = new Set(env.sim.deliveries.all.slice(before).map((d) => d.guid));
    expect(lostGuids.size).toBe(5);
    // 3,000 more, delivered, newer than them (matrices of 250: GitHub's matrix limit is 256).
    for (let i = 0; i < 12; i++) await queueJobs(250);
    expect(env.sim.deliveries.all.length).toBeGreaterThan(3_000);

    const report = await redeliverLost({ ...ports, maxRedeliveries: 1_000 });

    expect(report.examined).toBeGreaterThan(3_000);
    expect(report.redelivered).toBe(lostGuids.size);
    await env.sim.deliveries.idle();
    const delivered = new Set(env.sim.deliveries.all.filter((d) => d.redelivery && d.status === 'OK').map((d) => d.guid));
    for (const guid of lostGuids) expect(delivered.has(guid)).toBe(true);
  }, 120_000);
});

/** A webhook receiver whose status code can change between deliveries. */
async function webhookReceiverWith(status: () => number) {
  const { createServer } = await import('node:http');
  const received: { headers: Record<string, string | string[] | undefined> }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ headers: req.headers });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/webhook`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}
