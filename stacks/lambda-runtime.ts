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

/**
 * Every function's configuration besides its contract's environment, on AWS and in the local stack alike. The X-Ray
 * SDK's context-missing strategy: Lambda's default is LOG_ERROR, which logs an error for every HTTP call made outside
 * an invocation (a cold start reading the GitHub App's key: the init phase has no trace); those calls are simply not
 * traced (Lambda developer guide, "Defined runtime environment variables": AWS_XRAY_CONTEXT_MISSING).
 */
export const FUNCTION_ENVIRONMENT = {
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
} as const;
