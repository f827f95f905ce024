/*
 * `make bench` — dispatch scenario on the local stack: a burst of N signed `workflow_job` queued webhooks through the
 * producer's HTTP API; measures webhook accepted (202 received) → launch message received from the pool's SQS queue,
 * total time, and the AWS API calls the functions made per job (counted by an AWS SDK middleware in each function).
 * Writes bench/results/dispatch-<N>.json and bench/results/dispatch.md.
 *
 * Usage: npx tsx bench/dispatch.ts [N …]   (default: 100 1000). Needs the bundles built with bench/pools.bench.ts
 * into dist-bench/ (the Makefile's bench target does it).
 */
import { ReceiveMessageCommand, SQSClient, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack, throwawayStack } from '../local/stack';
import { examplePayload, signature } from '../tests/helpers/webhooks';
import { percentiles } from '../local/percentiles';
import { measuredCommit } from './commit';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const resultsDir = resolve(root, 'bench/results');
/** Webhooks in flight at once: GitHub delivers concurrently. */
const SEND_CONCURRENCY = 8;
/** Parallel long-polling receivers on the pool queue (each receive takes up to 10 messages). */
const RECEIVERS = 4;

interface DispatchResult {
  scenario: string;
  jobs: number;
  launches: number;
  /** Launch messages received more than once: the same SQS message, another message for the same runner, or a
   * message for a second runner (a double dispatch, which must be 0). */
  duplicateLaunchMessages: { sameMessage: number; sameRunner: number; otherRunner: number };
  acceptToLaunchMs: Record<string, number>;
  acceptMs: Record<string, number>;
  totalMs: number;
  awsCallsPerJob: Record<string, number>;
  awsCallsPerJobTotal: number;
  /** The commit measured. */
  commit: string;
  environment: string;
}

async function run(jobs: number): Promise<DispatchResult> {
  const local = await startLocalStack({
    ...(await throwawayStack(root, 'bench-dispatch')),
    logLevel: 'WARN',
    poolsConfigPath: resolve(root, 'bench/pools.bench.ts'),
    // This benchmark reads the launch messages off the pool queue itself: no orchestrator competes for them.
    orchestrate: false,
    distDir: resolve(root, 'dist-bench'),
  });
  const { stack } = local;
  const sqs = new SQSClient(local.aws.clientConfig);
  const queueUrl = stack.queues.bench!.url;
  const accepted = new Map<number, number>();
  const launched = new Map<number, number>();
  const seen = new Map<number, { messageId: string; runnerName: string }>();
  /** A job's launch received again: the same SQS message again (at-least-once delivery), or a second message. */
  const duplicates = { sameMessage: 0, sameRunner: 0, otherRunner: 0 };
  const firstJob = 30_000_000_000;
  let receiving = true;

  const receiver = async () => {
    while (receiving) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const now = performance.now();
      for (const message of Messages) {
        const { jobId, runnerName } = JSON.parse(message.Body!) as { jobId: number; runnerName: string };
        const first = seen.get(jobId);
        if (!first) {
          seen.set(jobId, { messageId: message.MessageId!, runnerName });
          launched.set(jobId, now);
        } else if (first.messageId === message.MessageId) duplicates.sameMessage++;
        else if (first.runnerName === runnerName) duplicates.sameRunner++;
        else duplicates.otherRunner++;
      }
      if (Messages.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
        );
      }
    }
  };
  const receivers = Array.from({ length: RECEIVERS }, receiver);

  const started = performance.now();
  let next = 0;
  const sendOne = async (jobId: number) => {
    const body = JSON.stringify(examplePayload('queued', { jobId, labels: ['self-hosted', 'bench'], repo: `bench-org/repo-${jobId % 7}` }));
    const sentAt = performance.now();
    const response = await fetch(stack.webhookUrl, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'workflow_job',
        'x-github-delivery': `bench-${jobId}`,
        'x-hub-signature-256': signature(stack.webhookSecret, body),
      },
    });
    if (response.status !== 202) throw new Error(`webhook for job ${jobId} got ${response.status}: ${await response.text()}`);
    accepted.set(jobId, performance.now());
    return performance.now() - sentAt;
  };
  const acceptDurations: number[] = [];
  await Promise.all(
    Array.from({ length: SEND_CONCURRENCY }, async () => {
      while (next < jobs) acceptDurations.push(await sendOne(firstJob + next++));
    }),
  );

  const deadline = Date.now() + 120_000 + jobs * 200;
  while (launched.size < jobs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  // Anything late would be a duplicate: give it a moment to show up.
  await new Promise((r) => setTimeout(r, 1_500));
  receiving = false;
  await Promise.all(receivers);
  const finished = Math.max(...launched.values());

  const calls: Record<string, number> = {};
  for (const name of ['producer', 'messenger', 'publisher']) {
    for (const [operation, count] of Object.entries(await local.functions.get(name)!.awsCalls())) {
      calls[`${name}:${operation}`] = (calls[`${name}:${operation}`] ?? 0) + count;
    }
  }
  await local.stop();
  sqs.destroy();

  const latencies = [...launched].filter(([jobId]) => accepted.has(jobId)).map(([jobId, at]) => at - accepted.get(jobId)!);
  const perJob = Object.fromEntries(
    Object.entries(calls)
      .sort()
      .map(([op, n]) => [op, Number((n / jobs).toFixed(3))]),
  );
  return {
    scenario: `dispatch-${jobs}`,
    jobs,
    launches: launched.size,
    duplicateLaunchMessages: duplicates,
    acceptToLaunchMs: percentiles(latencies),
    acceptMs: percentiles(acceptDurations),
    totalMs: Math.round(finished - started),
    awsCallsPerJob: perJob,
    awsCallsPerJobTotal: Number((Object.values(calls).reduce((a, b) => a + b, 0) / jobs).toFixed(3)),
    commit: measuredCommit(root),
    environment: `local stack (moto ${'5.2.5'}, one emulated execution environment per function), node ${process.version}, ${new Date().toISOString()}`,
  };
}

function markdown(results: DispatchResult[]): string {
  const lines = [
    '# Dispatch benchmark',
    '',
    '`make bench` on the local stack: N signed `queued` webhooks through the producer (8 in flight), until every launch',
    'message is on the pool queue. Latency = webhook accepted (HTTP 202) → launch message received from SQS.',
    '',
    "The AWS calls counted here are the dispatch path's only (producer, messenger, publisher, up to the launch message):",
    "not the system's figure per job, which the reliability benchmark counts over every function end to end.",
    '',
    '| N | launches | duplicate messages (same msg / same runner / 2nd runner) | accept→launch p50 / p95 / p99 (ms) | webhook 202 p50 / p99 (ms) | total (ms) | AWS calls per job (dispatch path) | commit |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.jobs} | ${r.launches} | ${r.duplicateLaunchMessages.sameMessage} / ${r.duplicateLaunchMessages.sameRunner} / ${r.duplicateLaunchMessages.otherRunner} | ${r.acceptToLaunchMs.p50} / ${r.acceptToLaunchMs.p95} / ${r.acceptToLaunchMs.p99} | ${r.acceptMs.p50} / ${r.acceptMs.p99} | ${r.totalMs} | ${r.awsCallsPerJobTotal} | ${r.commit} |`,
    ),
    '',
    'AWS calls per job of the dispatch path, by function and operation:',
    '',
    '| operation | ' + results.map((r) => `N=${r.jobs}`).join(' | ') + ' |',
    '| --- | ' + results.map(() => '---').join(' | ') + ' |',
    ...[...new Set(results.flatMap((r) => Object.keys(r.awsCallsPerJob)))]
      .sort()
      .map((op) => `| ${op} | ${results.map((r) => r.awsCallsPerJob[op] ?? 0).join(' | ')} |`),
    '',
    `Environment: ${results[0]?.environment ?? ''}. moto answers a DynamoDB call in ~15-40 ms; AWS in single-digit ms: read`,
    'the times as the shape of the pipeline (polling intervals, batching), not as AWS latencies.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const results: DispatchResult[] = [];
  mkdirSync(resultsDir, { recursive: true });
  for (const jobs of sizes.length > 0 ? sizes : [100, 1000]) {
    const result = await run(jobs);
    results.push(result);
    writeFileSync(resolve(resultsDir, `${result.scenario}.json`), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result));
  }
  writeFileSync(resolve(resultsDir, 'dispatch.md'), markdown(results));
  console.log(markdown(results));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
