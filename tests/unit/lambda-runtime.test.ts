import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalFunction, type LocalFunction } from '../../local/lambda-runtime';

/*
 * The local stack's Lambda runtime: one invocation at a time per execution environment, several environments when
 * asked, and an environment killed mid-invocation (the chaos scenario's orchestrator crash).
 */

const dir = mkdtempSync(join(tmpdir(), 'runtime-'));
const bundle = join(dir, 'index.mjs');
// Records when each invocation ran, in its own environment (worker thread), and can hang.
writeFileSync(
  bundle,
  `const environment = Math.random().toString(36).slice(2);
export const handler = async (event) => {
  const started = Date.now();
  await new Promise((r) => setTimeout(r, event.hang ? 60_000 : 200));
  return { environment, started, ended: Date.now() };
};`,
);

describe('local Lambda runtime', () => {
  const started: LocalFunction[] = [];
  const start = async (concurrency?: number) => {
    const fn = await startLocalFunction({ name: 'probe', bundle, environment: {}, timeoutMs: 90_000, ...(concurrency ? { concurrency } : {}) });
    started.push(fn);
    return fn;
  };
  afterAll(async () => {
    await Promise.all(started.map((fn) => fn.stop()));
  });
  type Run = { environment: string; started: number; ended: number };

  it('runs one invocation at a time per environment', async () => {
    const fn = await start();
    const [a, b] = await Promise.all([fn.invoke<Run>({}), fn.invoke<Run>({})]);
    expect(b.environment).toBe(a.environment);
    expect(b.started).toBeGreaterThanOrEqual(a.ended);
  });

  it('spreads invocations over its environments when it has several', async () => {
    const fn = await start(2);
    const [a, b] = await Promise.all([fn.invoke<Run>({}), fn.invoke<Run>({})]);
    expect(b.environment).not.toBe(a.environment);
    expect(b.started).toBeLessThan(a.ended);
    expect(fn.usage().invocations).toBe(2);
  });

  it('crash() fails the invocation in progress; the next one gets a fresh environment', async () => {
    const fn = await start();
    const before = await fn.invoke<Run>({});
    const hanging = fn.invoke<Run>({ hang: true });
    await new Promise((r) => setTimeout(r, 100));
    await fn.crash();
    await expect(hanging).rejects.toThrow(/Runtime.ExitError: the execution environment was terminated/);
    const after = await fn.invoke<Run>({});
    expect(after.environment).not.toBe(before.environment);
  });
});
