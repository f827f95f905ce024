/*
 * `make bench`, the shipped bundles: the size of each function's dist/<function>/index.mjs (what Lambda loads; the
 * source maps and metafiles stay in dist/.maps and dist/.meta) and its cold init — a plain `node` import of the bundle
 * with the function's own environment (median of BENCH_IMPORTS, 11, fresh processes; the import and its top-level
 * work, not node's own start), and the local runtime's init of its execution environments (a worker thread: what
 * Lambda reports as Init Duration). Functions the local stack does not run (the EC2, EKS and Lambda orchestrators,
 * the runner Lambda) get their size only. Writes bench/results/bundles.json and bundles.md.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { percentiles } from '../local/percentiles';
import { startLocalStack, throwawayStack } from '../local/stack';
import { functionEntries } from '../scripts/build-functions';
import { measuredCommit } from './commit';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const resultsDir = resolve(root, process.env.BENCH_RESULTS_DIR ?? 'bench/results');
const IMPORTS = Number(process.env.BENCH_IMPORTS ?? 11);
const COMMIT = measuredCommit(root);

/** The goals of issue 16: the dispatch path's bundles small, every orchestrator under 1 MB, the producer's import fast. */
const SIZE_GOAL_KB: Record<string, number> = {
  producer: 400,
  messenger: 400,
  publisher: 400,
  'orchestrator-docker': 1024,
  'orchestrator-ec2': 1024,
  'orchestrator-eks': 1024,
  'orchestrator-lambda': 1024,
};
const IMPORT_GOAL_MS: Record<string, number> = { producer: 60 };

interface BundleResult {
  readonly function: string;
  readonly bytes: number;
  /** Its biggest packages, KB (from the metafile). */
  readonly largest: Record<string, number>;
  readonly plainImportMs?: { p50: number; p95: number };
  readonly localInitMs?: { p50: number; max: number };
}

/**
 * One fresh `node` process: the time of the bundle's import, measured inside it. Asynchronous: a function that reads
 * its parameters at import calls the local stack's IAM proxy, which runs in this process.
 */
async function plainImport(bundle: string, environment: Record<string, string>): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(performance.now() - t); process.exit(0);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...environment, AWS_LAMBDA_FUNCTION_NAME: 'bench' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return Number(stdout.trim().split('\n').at(-1));
}

function largestPackages(name: string): Record<string, number> {
  const meta = JSON.parse(readFileSync(resolve(root, 'dist', '.meta', `${name}.json`), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const sizes = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, info] of Object.entries(output.inputs)) {
      const key = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? (path.startsWith('functions/') ? 'ours (functions/)' : path);
      sizes.set(key, (sizes.get(key) ?? 0) + info.bytesInOutput);
    }
  }
  return Object.fromEntries(
    [...sizes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, v]) => [k, Math.round(v / 1024)]),
  );
}

const local = await startLocalStack({ ...(await throwawayStack(root, 'bench-bundles')), logLevel: 'ERROR' });
const results: BundleResult[] = [];
try {
  for (const { name } of functionEntries()) {
    const bundle = resolve(root, 'dist', name, 'index.mjs');
    const fn = local.functions.get(name);
    const result: BundleResult = { function: name, bytes: statSync(bundle).size, largest: largestPackages(name) };
    if (fn) {
      const imports: number[] = [];
      for (let i = 0; i < IMPORTS; i++) imports.push(await plainImport(fn.bundle, fn.environment));
      const inits = fn.initDurations();
      const plain = percentiles(imports, [50, 95]);
      Object.assign(result, {
        plainImportMs: { p50: plain.p50!, p95: plain.p95! },
        localInitMs: { p50: percentiles(inits, [50]).p50!, max: Math.round(Math.max(...inits)) },
      });
    }
    results.push(result);
    console.log(JSON.stringify(result));
  }
} finally {
  await local.stop();
}

const kb = (bytes: number) => Math.round(bytes / 1024);
const goal = (value: number, limit: number | undefined) =>
  limit === undefined ? '' : value <= limit ? ` (goal ≤ ${limit}: met)` : ` (goal ≤ ${limit}: not met)`;
const markdown = [
  '# Bundles and cold init',
  '',
  '`make bench` on the bundles `make build` ships (dist/<function>/index.mjs: ESM, minified, the AWS SDK bundled, no source map).',
  `Plain import: a fresh \`node\` process imports the bundle with the function's environment from the local stack (median and p95 of ${IMPORTS});`,
  "it includes the bundle's top-level work (the orchestrators, reconciler and notifier read the GitHub App's key from SSM there). Local init:",
  "the local runtime's execution environments (worker threads), the same import as Lambda's Init Duration counts it.",
  '',
  '| function | bundle (KB) | plain import p50 / p95 (ms) | local init p50 / max (ms) | largest packages (KB) | commit |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => {
    const imp = r.plainImportMs ? `${r.plainImportMs.p50} / ${r.plainImportMs.p95}${goal(r.plainImportMs.p50, IMPORT_GOAL_MS[r.function])}` : 'not run locally';
    const init = r.localInitMs ? `${r.localInitMs.p50} / ${r.localInitMs.max}` : 'not run locally';
    return `| ${r.function} | ${kb(r.bytes)}${goal(kb(r.bytes), SIZE_GOAL_KB[r.function])} | ${imp} | ${init} | ${Object.entries(r.largest)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} | ${COMMIT} |`;
  }),
  '',
  `Environment: node ${process.version}, ${new Date().toISOString()}; a shared 2-core machine, so times are indicative.`,
  '',
].join('\n');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(resolve(resultsDir, 'bundles.json'), `${JSON.stringify({ commit: COMMIT, results }, null, 2)}\n`);
writeFileSync(resolve(resultsDir, 'bundles.md'), markdown);
console.log(markdown);
process.exit(0);
