/*
 * `make status`: the status page's view as text, read-only. Against the local stack (its .local/stack.json), or a
 * deployed stack with the operator's AWS credentials: JOBS_TABLE=<prefix>-jobs AWS_REGION=… make status. It only
 * reads (DynamoDB Query and BatchGetItem on the Jobs table and its indexes). Traces, containers and GitHub's runners
 * are the local page's; on AWS see X-Ray (README, "Tracing") and the dashboard.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { cronProblem, parsePoolsConfig } from '@runners/shared';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import poolsConfigFile from '../pools.config';
import type { StackFile } from './stack';
import { statusSnapshot } from './status/status-snapshot';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const config = parsePoolsConfig(poolsConfigFile, 'pools.config.ts', { cron: cronProblem });
const stackFile = resolve(root, process.env.LOCAL_STACK_DIR ?? '.local', 'stack.json');

function target(): { client: DynamoDBClient; tableName: string; where: string } {
  if (process.env.JOBS_TABLE)
    return { client: new DynamoDBClient({}), tableName: process.env.JOBS_TABLE, where: `deployed stack (${process.env.AWS_REGION ?? 'default region'})` };
  if (!existsSync(stackFile)) {
    console.error(`no local stack (${stackFile} is missing): start one with make local, or set JOBS_TABLE (and AWS_REGION) for a deployed stack`);
    process.exit(1);
  }
  const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as StackFile;
  const client = new DynamoDBClient({
    endpoint: stack.aws.endpoint,
    region: stack.aws.region,
    credentials: { accessKeyId: stack.aws.accessKeyId, secretAccessKey: stack.aws.secretAccessKey },
  });
  return { client, tableName: stack.tables.jobs, where: `local stack (${stack.aws.endpoint})` };
}

const { client, tableName, where } = target();
const snapshot = await statusSnapshot({ dynamodb: client, tableName, config });
const pad = (cells: readonly (string | number)[], widths: readonly number[]) => cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
const widths = [16, 7, 14, 7, 17, 18, 8];
console.log(`${where}, table ${tableName}, ${snapshot.at}`);
console.log(pad(['pool', 'host', 'in flight/max', 'queued', 'oldest wait (s)', 'launches/min', 'failing'], widths));
for (const p of snapshot.pools) {
  console.log(
    pad(
      [
        p.pool,
        p.host,
        `${p.inFlight}/${p.maxRunners}`,
        p.queued,
        p.oldestWaitSeconds ?? '',
        `${p.launchesLastMinute}/${p.launchesPerMinute}`,
        p.failingLaunches,
      ],
      widths,
    ) + (p.lastLaunchError ? `  last error: ${p.lastLaunchError}` : ''),
  );
}
client.destroy();
