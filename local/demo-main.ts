/*
 * `make demo`: a bounded run of the whole local system. Starts everything (on free ports, in a temporary folder),
 * sends a mixed workload of DEMO_JOBS (50) jobs through the GitHub simulator, waits, prints a summary, writes it to
 * .local/demo-summary.json, stops everything. Exits 0 only if every job ran exactly once and nothing was left behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSummary, runDemo } from './demo';
import { freePort } from './free-port.mjs';
import { startLocalStack } from './stack';
import { startDockerFaultProxy } from './chaos/docker-fault-proxy';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const jobs = Number(process.env.DEMO_JOBS ?? 50);
// DEMO_SCENARIO=chaos: 10 % duplicated, 5 % reordered, 2 % dropped webhooks, 5 % container creations failing,
// GitHub 5xx and secondary rate limits, 1 % of jobs cancelled while queued; reconcile passes every 5 s.
const chaos = process.env.DEMO_SCENARIO === 'chaos';
const faultProxy = chaos ? await startDockerFaultProxy({ createFailureRate: 0.05 }) : undefined;

const local = await startLocalStack({
  root,
  stackDir: mkdtempSync(join(tmpdir(), 'demo-')),
  httpPort: await freePort(),
  motoPort: await freePort(),
  webhookSecret: randomBytes(16).toString('hex'),
  logLevel: process.env.LOG_LEVEL ?? 'ERROR',
  publisherTickMs: 10_000,
  ...(chaos ? { reconcileTickMs: 5_000, ...(faultProxy ? { orchestratorDockerHost: faultProxy.dockerHost } : {}) } : {}),
});
let code = 1;
try {
  const summary = await runDemo(local, {
    jobs,
    ...(chaos ? { chaos: { webhooks: { drop: 0.02, duplicate: 0.1, reorder: 0.05 }, rest: { serverError: 0.02, secondaryRateLimit: 0.01 }, cancelFraction: 0.01 } } : {}),
  });
  if (faultProxy) console.log(`  injected: ${faultProxy.injected()} container creations failed`);
  console.log(formatSummary(summary));
  mkdirSync(resolve(root, '.local'), { recursive: true });
  writeFileSync(resolve(root, '.local/demo-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  code = summary.ok ? 0 : 1;
} catch (error) {
  console.error(error);
} finally {
  await local.stop();
  await faultProxy?.close();
}
process.exit(code);
