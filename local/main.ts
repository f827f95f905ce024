/*
 * `make local`: the whole system on this machine. moto as AWS, the same function bundles as in AWS under an emulated
 * Lambda runtime, the producer behind an emulated HTTP API. Writes .local/stack.json; runs until Ctrl-C.
 *
 * Environment (or .env): WEBHOOK_SECRET (else one is generated and kept in .local/webhook-secret),
 * LOCAL_HTTP_PORT (8787), MOTO_PORT (5055), LOCAL_STACK_DIR (.local), LOG_LEVEL (INFO).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PREFIX, resourceNames } from '../stacks/resource-names';
import { awsTarget } from './aws-target';
import { startHttpApi } from './http-api';
import { startLocalFunction, type LocalFunction } from './lambda-runtime';
import { startMotoServer } from './moto-server.mjs';
import { provisionJobsTable, provisionWebhookSecret } from './provision';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
if (existsSync(resolve(root, '.env'))) process.loadEnvFile(resolve(root, '.env'));

const stackDir = resolve(root, process.env.LOCAL_STACK_DIR ?? '.local');
const httpPort = Number(process.env.LOCAL_HTTP_PORT ?? 8787);
const motoPort = Number(process.env.MOTO_PORT ?? 5055);
const names = resourceNames(DEFAULT_PREFIX);

function webhookSecret(): string {
  if (process.env.WEBHOOK_SECRET) return process.env.WEBHOOK_SECRET;
  const file = resolve(stackDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const generated = randomBytes(24).toString('hex');
  writeFileSync(file, `${generated}\n`, { mode: 0o600 });
  return generated;
}

function bundle(name: string): string {
  const path = resolve(root, 'dist', name, 'index.mjs');
  if (!existsSync(path)) throw new Error(`${path} is missing: run "make build" first`);
  return path;
}

async function main(): Promise<void> {
  mkdirSync(stackDir, { recursive: true });
  const secret = webhookSecret();
  const moto = await startMotoServer(motoPort, { logFile: resolve(stackDir, 'moto.log') });
  const aws = awsTarget(moto.endpoint);
  const functions: LocalFunction[] = [];
  let api: Awaited<ReturnType<typeof startHttpApi>> | undefined;

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local stack…');
    await api?.stop();
    await Promise.all(functions.map((f) => f.stop()));
    await moto.stop();
    rmSync(resolve(stackDir, 'stack.json'), { force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    await provisionJobsTable(aws, names.jobsTable);
    await provisionWebhookSecret(aws, names.webhookSecretParameter, secret);

    const common = {
      ...aws.environment,
      JOBS_TABLE_NAME: names.jobsTable,
      POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'EphemeralRunners',
      // EMF metric lines are for CloudWatch; locally they are noise.
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    const producer = await startLocalFunction({
      name: names.function('producer'),
      bundle: bundle('producer'),
      environment: { ...common, WEBHOOK_SECRET_PARAMETER: names.webhookSecretParameter },
      timeoutMs: 10_000,
    });
    functions.push(producer);
    api = await startHttpApi(httpPort, { 'POST /webhook': producer });

    const stack = {
      webhookUrl: `${api.url}/webhook`,
      webhookSecret: secret,
      aws: { endpoint: aws.endpoint, region: aws.region, accessKeyId: 'test', secretAccessKey: 'test' },
      tables: { jobs: names.jobsTable },
      parameters: { webhookSecret: names.webhookSecretParameter },
      functions: functions.map((f) => f.name),
    };
    writeFileSync(resolve(stackDir, 'stack.json'), `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
    console.log(
      [
        'local stack is up',
        `  webhook URL     ${stack.webhookUrl}  (POST, signed with the secret in ${stackDir}/stack.json)`,
        `  AWS endpoint    ${stack.aws.endpoint}  region ${stack.aws.region}, credentials test/test`,
        `  Jobs table      ${stack.tables.jobs}`,
        `  stack file      ${resolve(stackDir, 'stack.json')}`,
        'Ctrl-C stops it.',
      ].join('\n'),
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stop(1);
  }
}

void main();
