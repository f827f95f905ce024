/*
 * Bundles every function (functions/<name>/src/index.ts, except the shared core) into dist/<name>/index.mjs:
 * ESM for nodejs22.x, AWS SDK bundled (pinned with our code, not the runtime's), minified, with sourcemaps.
 * POOLS_CONFIG=path/to/file.ts bundles another pools config instead of ./pools.config.ts; OUT_DIR=dir writes there.
 */
import { build, type Plugin } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const poolsConfig = resolve(root, process.env.POOLS_CONFIG ?? 'pools.config.ts');
const outDir = resolve(root, process.env.OUT_DIR ?? 'dist');

const poolsConfigAlias: Plugin = {
  name: 'pools-config',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /(^|\/)pools\.config(\.ts)?$/ }, () => ({ path: poolsConfig }));
  },
};

export function functionNames(): string[] {
  return readdirSync(resolve(root, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared' && existsSync(resolve(root, 'functions', entry.name, 'src/index.ts')))
    .map((entry) => entry.name)
    .sort();
}

async function main(): Promise<void> {
  if (!existsSync(poolsConfig)) throw new Error(`POOLS_CONFIG: no file at ${poolsConfig}`);
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : functionNames();
  await Promise.all(
    names.map(async (name) => {
      const result = await build({
        entryPoints: [resolve(root, 'functions', name, 'src/index.ts')],
        outfile: resolve(outDir, name, 'index.mjs'),
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        mainFields: ['module', 'main'],
        minify: true,
        sourcemap: 'linked',
        metafile: true,
        logLevel: 'warning',
        plugins: [poolsConfigAlias],
        // aws-xray-sdk-core (pulled in by the Tracer) calls require() at run time; ESM has none.
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      });
      const bundleBytes = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('.mjs'))?.[1].bytes ?? 0;
      console.log(`${resolve(outDir, name, 'index.mjs').slice(root.length + 1)}  ${(bundleBytes / 1024).toFixed(0)} KB`);
    }),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
