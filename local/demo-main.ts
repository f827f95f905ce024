/*
 * `make demo`: a bounded run of the whole local system. Starts everything (on free ports, in a temporary folder),
 * sends a mixed workload of DEMO_JOBS (50) jobs through the GitHub simulator, waits, prints a summary, writes it to
 * .local/demo-summary.json, stops everything. Exits 0 only if every job ran exactly once and nothing was left behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSummary, runDemo } from './demo';
import { chosenPoolsConfig } from './pools/chosen';
import { startLocalStack, throwawayStack } from './stack';
import { CHAOS_FAULTS, startChaosScenario } from './chaos/scenario';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const jobs = Number(process.env.DEMO_JOBS ?? 50);
// DEMO_SCENARIO=chaos: the faults of local/chaos/scenario.ts.
const chaos = process.env.DEMO_SCENARIO === 'chaos';
const faults = chaos ? await startChaosScenario() : undefined;
// DEMO_CHAOS=classic: the chaos without host deaths — cancels only while queued, no host killed.
const classic = process.env.DEMO_CHAOS === 'classic' ? { hostDeathFraction: 0, cancelStages: ['queued'] as const } : {};

const local = await startLocalStack({
  ...(await throwawayStack(root, 'demo')),
  // POOLS_CONFIG=local/pools/scaleset.ts: the same workload through scale-set pools.
  ...chosenPoolsConfig(root),
  logLevel: process.env.LOG_LEVEL ?? 'ERROR',
  publisherTickMs: 10_000,
  // The status page, on LOCAL_STATUS_PORT or a free port: open it while the demo runs.
  statusPort: Number(process.env.LOCAL_STATUS_PORT ?? 0),
  ...faults?.stackOptions,
});
faults?.attach(local);
if (local.status) console.log(`status page: ${local.status.url}`);
let code = 1;
try {
  const summary = await runDemo(local, {
    jobs,
    // Chaos holds slots longer (20 s jobs whose hosts are killed, GitHub's 15 s job lock, relaunches): more time.
    ...(chaos ? { chaos: { ...CHAOS_FAULTS, ...classic }, timeoutMs: 480_000 } : {}),
  });
  if (faults)
    console.log(
      `  injected by the chaos scenario: ${faults.proxy.injected()} container creations failed, ${faults.proxy.crashes()} orchestrator crash(es) between JIT config and host; hosts killed mid-job and cancels: below`,
    );
  console.log(formatSummary(summary));
  mkdirSync(resolve(root, '.local'), { recursive: true });
  writeFileSync(resolve(root, '.local/demo-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  code = summary.ok ? 0 : 1;
} catch (error) {
  console.error(error);
} finally {
  await local.stop();
  await faults?.close();
}
process.exit(code);
