import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { LocalStackOptions } from '../stack';

/*
 * `make local POOLS_CONFIG=local/pools/scaleset.ts` (and `make demo …`): another pools config than ./pools.config.ts.
 * The functions are bundled with it into dist-<file name>/ (the Makefile's build does the same), so that the default
 * dist/ stays what pools.config.ts makes.
 */

/** Where the bundles of a pools config go: dist/ for the default one, dist-<file name>/ for another. */
export function distDirOf(poolsConfig: string | undefined): string {
  return poolsConfig ? `dist-${basename(poolsConfig, extname(poolsConfig))}` : 'dist';
}

/** The local stack's options for POOLS_CONFIG (none when unset), checked: the file and its bundles exist. */
export function chosenPoolsConfig(root: string, env: NodeJS.ProcessEnv = process.env): Pick<LocalStackOptions, 'poolsConfigPath' | 'distDir'> {
  const dist = distDirOf(env.POOLS_CONFIG);
  for (const name of ['messenger', 'publisher', 'orchestrator-docker', 'reconciler', 'notifier']) {
    if (!existsSync(resolve(root, dist, name, 'index.mjs')))
      throw new Error(`${dist}/${name}/index.mjs is missing: run "make build${env.POOLS_CONFIG ? ` POOLS_CONFIG=${env.POOLS_CONFIG}` : ''}" first`);
  }
  if (!env.POOLS_CONFIG) return {};
  const poolsConfigPath = resolve(root, env.POOLS_CONFIG);
  if (!existsSync(poolsConfigPath)) throw new Error(`POOLS_CONFIG: no file at ${poolsConfigPath}`);
  return { poolsConfigPath, distDir: resolve(root, dist) };
}
