import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/*
 * The Node.js that Lambda runs our functions on, from one place: .nvmrc (the exact version the project installs into
 * .tools/node and runs tests, the local stack and the benches on). The stacks deploy `nodejs<major>.x`, esbuild
 * targets `node<major>`, and the runner Lambda's image starts from `public.ecr.aws/lambda/nodejs:<major>`.
 */
const nvmrc = resolve(import.meta.dirname, '..', '.nvmrc');

export const NODE_VERSION = readFileSync(nvmrc, 'utf8').trim();
export const NODE_MAJOR = Number(NODE_VERSION.split('.')[0]);
/** Lambda's runtime identifier (Lambda developer guide, "Lambda runtimes"). */
export const LAMBDA_RUNTIME = `nodejs${NODE_MAJOR}.x`;
export const ESBUILD_TARGET = `node${NODE_MAJOR}`;
