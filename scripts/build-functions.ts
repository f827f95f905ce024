/*
 * Bundles every function (its Lambda entry, functions/<name>/src/lambda.ts) into dist/<name>/index.mjs:
 * ESM for nodejs22.x, AWS SDK bundled (pinned with our code, not the runtime's), minified. dist/<name>/ is what ships
 * (the stacks zip it), so the source maps and esbuild's metafiles go beside it, not in it: dist/.maps/<name>.mjs.map
 * (to decode a stack trace; Lambda runs without --enable-source-maps, which costs cold-start time) and
 * dist/.meta/<name>.json (what each bundle is made of: tests/unit/bundle-contents.test.ts reads them).
 * POOLS_CONFIG=path/to/file.ts bundles another pools config instead of ./pools.config.ts, into dist-<file name>/ (what
 * `make local POOLS_CONFIG=…` runs); OUT_DIR=dir writes there instead.
 */
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cronProblem, parsePoolsConfig, poolsConfigWarnings } from '@runners/shared';
import { ESBUILD_TARGET } from '../stacks/lambda-runtime';
import { distDirOf } from '../local/pools/chosen';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const poolsConfig = resolve(root, process.env.POOLS_CONFIG ?? 'pools.config.ts');
const outDir = resolve(root, process.env.OUT_DIR ?? distDirOf(process.env.POOLS_CONFIG));

const poolsConfigAlias: Plugin = {
  name: 'pools-config',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /(^|\/)pools\.config(\.ts)?$/ }, () => ({ path: poolsConfig }));
  },
};

/** In the bundles, the SDK's credential chain is the environment's (see functions/shared/src/adapters/lambda-credentials.ts). */
const lambdaCredentials: Plugin = {
  name: 'lambda-credentials',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: resolve(root, 'functions/shared/src/adapters/lambda-credentials.ts'),
    }));
  },
};

export interface FunctionEntry {
  /** The bundle's name: dist/<name>/index.mjs. */
  readonly name: string;
  readonly entryPoint: string;
}

/**
 * Every function: its Lambda entry functions/<dir>/src/lambda.ts → <dir>; a package with one entry per variant (the
 * orchestrators, one per host kind) has functions/<dir>/src/entries/<kind>.ts → <dir without the plural s>-<kind>.
 * A package's src/index.ts is its API (what tests and the local stack import), not an entry.
 */
export function functionEntries(): FunctionEntry[] {
  const entries: FunctionEntry[] = [];
  for (const dir of readdirSync(resolve(root, 'functions'), { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name === 'shared') continue;
    const src = resolve(root, 'functions', dir.name, 'src');
    if (existsSync(resolve(src, 'lambda.ts'))) entries.push({ name: dir.name, entryPoint: resolve(src, 'lambda.ts') });
    if (existsSync(resolve(src, 'entries'))) {
      for (const file of readdirSync(resolve(src, 'entries')).filter((f) => f.endsWith('.ts'))) {
        entries.push({ name: `${dir.name.replace(/s$/, '')}-${file.replace(/\.ts$/, '')}`, entryPoint: resolve(src, 'entries', file) });
      }
    }
  }
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

/** What the bundles are made of: every file under functions/ and the pools config (path, size, time), the lockfile. */
function inputsFingerprint(): string {
  const hash = createHash('sha256').update(poolsConfig).update(ESBUILD_TARGET);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(`${relative(root, path)} ${statSync(path).size} ${statSync(path).mtimeMs}\n`);
    }
  };
  walk(resolve(root, 'functions'));
  for (const file of [poolsConfig, resolve(root, 'package-lock.json'), fileURLToPath(import.meta.url)])
    hash.update(`${file} ${statSync(file).mtimeMs} ${readFileSync(file).length}\n`);
  return hash.digest('hex');
}

async function main(): Promise<void> {
  if (!existsSync(poolsConfig)) throw new Error(`POOLS_CONFIG: no file at ${poolsConfig}`);
  // The config is bundled in and validated at every cold start: refuse a bad one here, as `make local` and synth do.
  const config = parsePoolsConfig(((await import(pathToFileURL(poolsConfig).href)) as { default: unknown }).default, relative(root, poolsConfig), {
    cron: cronProblem,
  });
  for (const warning of poolsConfigWarnings(config)) console.warn(`${relative(root, poolsConfig)}: warning: ${warning}`);
  const wanted = process.argv.slice(2);
  const entries = functionEntries().filter((entry) => wanted.length === 0 || wanted.includes(entry.name));
  const stamp = resolve(outDir, '.inputs');
  const fingerprint = inputsFingerprint();
  const built = entries.every((e) => existsSync(resolve(outDir, e.name, 'index.mjs')));
  if (wanted.length === 0 && built && existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) {
    console.log(`bundles in ${relative(root, outDir) || '.'}/ are up to date`);
    return;
  }
  await Promise.all(
    entries.map(async ({ name, entryPoint }) => {
      const result = await build({
        entryPoints: [entryPoint],
        outfile: resolve(outDir, name, 'index.mjs'),
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: ESBUILD_TARGET,
        mainFields: ['module', 'main'],
        minify: true,
        sourcemap: 'external',
        metafile: true,
        write: false,
        logLevel: 'warning',
        plugins: [poolsConfigAlias, lambdaCredentials],
        // CommonJS dependencies bundled into ESM expect require (aws-xray-sdk-core, pulled in by the Tracer) and
        // __dirname / __filename at run time.
        banner: {
          js: [
            "import { createRequire as __cr } from 'node:module';",
            "import { fileURLToPath as __fu } from 'node:url';",
            "import { dirname as __dn } from 'node:path';",
            'const require = __cr(import.meta.url);',
            'const __filename = __fu(import.meta.url);',
            'const __dirname = __dn(__filename);',
          ].join(' '),
        },
      });
      const bundle = resolve(outDir, name, 'index.mjs');
      rmSync(resolve(outDir, name), { recursive: true, force: true });
      for (const dir of [resolve(outDir, name), resolve(outDir, '.maps'), resolve(outDir, '.meta')]) mkdirSync(dir, { recursive: true });
      for (const file of result.outputFiles) writeFileSync(file.path.endsWith('.map') ? resolve(outDir, '.maps', `${name}.mjs.map`) : bundle, file.contents);
      writeFileSync(resolve(outDir, '.meta', `${name}.json`), JSON.stringify(result.metafile));
      console.log(`${bundle.slice(root.length + 1)}  ${(statSync(bundle).size / 1024).toFixed(0)} KB`);
    }),
  );
  if (wanted.length === 0) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(stamp, fingerprint);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
