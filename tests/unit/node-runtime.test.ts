import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ESBUILD_TARGET, LAMBDA_RUNTIME, NODE_MAJOR, NODE_VERSION } from '../../stacks/lambda-runtime';

/*
 * Lambda is a component too: the functions run on `nodejs22.x`, so the tests, the local stack and the benches run on
 * that Node major (the Makefile puts .tools/node, installed from .nvmrc, first on PATH), and every artefact that names
 * a Node version names the same one.
 */

describe('the Lambda runtime and the Node the project runs on', () => {
  it('runs this suite on the Lambda runtime’s Node major (run it through make, which installs .tools/node)', () => {
    expect(`${process.versions.node.split('.')[0]}`).toBe(String(NODE_MAJOR));
    expect(process.versions.node).toBe(NODE_VERSION);
  });

  it('deploys a Node runtime Lambda supports, bundles for it, and builds the runner Lambda image on it', () => {
    // Lambda's supported Node.js runtimes, "Lambda runtimes" in the Lambda developer guide (nodejs20.x is deprecated
    // in 2026; 18.x and older are gone).
    expect(['nodejs22.x', 'nodejs24.x']).toContain(LAMBDA_RUNTIME);
    expect(ESBUILD_TARGET).toBe(`node${NODE_MAJOR}`);
    const dockerfile = readFileSync('functions/runner-lambda/Dockerfile', 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^FROM public\\.ecr\\.aws/lambda/nodejs:${NODE_MAJOR}$`, 'm'));
  });
});
