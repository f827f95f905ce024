/*
 * `make local`: the whole system on this machine, until Ctrl-C. See local/stack.ts for what runs.
 *
 * Environment (or .env): WEBHOOK_SECRET (else one is generated and kept in .local/webhook-secret),
 * LOCAL_HTTP_PORT (8787), MOTO_PORT (5055), LOCAL_STACK_DIR (.local), LOG_LEVEL (INFO: the functions' log level),
 * POOLS_CONFIG (another pools config, e.g. local/pools/scaleset.ts; bundled into dist-<name>/ by make), LOCAL_SIM_PORT (8789: the GitHub simulator), LOCAL_STATUS_PORT (8790: the status page), PUBLISHER_TICK_MS (10000), DEMO_JOBS (12: a demo workload run through the simulator at start; 0 for none).
 * The console shows one line per launch, teardown, notice and failure; <LOCAL_STACK_DIR>/functions.log has every line.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleLine } from './console-log';
import { formatSummary, runDemo } from './demo';
import { chosenPoolsConfig } from './pools/chosen';
import { startLocalStack } from './stack';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
if (existsSync(resolve(root, '.env'))) process.loadEnvFile(resolve(root, '.env'));
const stackDir = resolve(root, process.env.LOCAL_STACK_DIR ?? '.local');

function webhookSecret(): string {
  if (process.env.WEBHOOK_SECRET) return process.env.WEBHOOK_SECRET;
  const file = resolve(stackDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const generated = randomBytes(24).toString('hex');
  writeFileSync(file, `${generated}\n`, { mode: 0o600 });
  return generated;
}

async function main(): Promise<void> {
  mkdirSync(stackDir, { recursive: true });
  const functionsLog = createWriteStream(resolve(stackDir, 'functions.log'), { flags: 'a', mode: 0o600 });
  const local = await startLocalStack({
    root,
    stackDir,
    ...chosenPoolsConfig(root),
    httpPort: Number(process.env.LOCAL_HTTP_PORT ?? 8787),
    motoPort: Number(process.env.MOTO_PORT ?? 5055),
    webhookSecret: webhookSecret(),
    logLevel: process.env.LOG_LEVEL ?? 'INFO',
    functionLog: (fn, line) => {
      functionsLog.write(`${line}\n`);
      const readable = consoleLine(line);
      if (readable) console.log(readable);
    },
    publisherTickMs: Number(process.env.PUBLISHER_TICK_MS ?? 10_000),
    statusPort: Number(process.env.LOCAL_STATUS_PORT ?? 8790),
    // A fixed port, so that the README's and the status page's commands work from one start to the next.
    simPort: Number(process.env.LOCAL_SIM_PORT ?? 8789),
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local stack…');
    await local.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const { stack } = local;
  console.log(
    [
      'local stack is up',
      `  status page     ${local.status?.url ?? ''}  (pools, jobs and their stage timeline, runners, reconcile passes; live)`,
      stack.webhookUrl
        ? `  webhook URL     ${stack.webhookUrl}  (POST, signed with the secret in ${stackDir}/stack.json)`
        : '  webhook URL     none: every pool takes its jobs from its scale set',
      `  AWS endpoint    ${stack.aws.endpoint}  region ${stack.aws.region}, credentials test/test`,
      `  Jobs table      ${stack.tables.jobs}`,
      ...Object.entries(stack.queues).map(([pool, q]) => `  pool queue      ${pool}: ${q.url}`),
      `  functions       ${stack.functions.join(', ')}`,
      ...local.config.pools
        .filter((p) => p.intake === 'scaleset')
        .map((p) => `  scale set       ${p.name}: ${p.scaleSet?.name ?? p.name} (its listener pulls the jobs)`),
      `  GitHub          ${stack.github.simulated ? `simulator at ${stack.github.apiUrl} (App ${stack.github.appId})` : stack.github.apiUrl}`,
      `  stack file      ${resolve(stackDir, 'stack.json')}`,
      `  function logs   ${resolve(stackDir, 'functions.log')} (below: one line per launch, teardown, notice, failure)`,
      'Ctrl-C stops it.',
    ].join('\n'),
  );
  const demoJobs = Number(process.env.DEMO_JOBS ?? 12);
  if (local.sim && demoJobs > 0) {
    console.log(`running a demo workload of ${demoJobs} jobs through the simulator (DEMO_JOBS=0 for none)…`);
    console.log(formatSummary(await runDemo(local, { jobs: demoJobs })));
    console.log(
      `queue more: curl -X POST ${local.sim.url}/_sim/runs -d '{"owner":"octo-org","repo":"app","jobs":[{"labels":["self-hosted","docker"],"matrix":5}]}'`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
