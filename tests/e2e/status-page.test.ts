import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runDemo, type DemoSummary } from '../../local/demo';
import { startLocalStack, throwawayStack, type LocalStack } from '../../local/stack';
import { waitUntil } from '../helpers/simulator';

/*
 * The status page of the local stack, as a user sees it: opened in headless Chromium (Debian's package) while the
 * demo workload (what `make demo` runs) goes through the system. It shows every pool, and jobs moving: their state
 * and stage timeline change between two looks. The screenshots are kept in STATUS_SCREENSHOT_DIR (default
 * .local/test-output/).
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const screenshots = resolve(root, process.env.STATUS_SCREENSHOT_DIR ?? '.local/test-output');

/** What Chromium renders after the page's script ran (its DOM), and optionally a screenshot of it. */
async function look(url: string, screenshot?: string): Promise<string> {
  // Root in a container: no sandbox; the virtual time budget lets the page fetch and draw before the dump.
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    '--window-size=1500,1100',
    '--virtual-time-budget=4000',
  ];
  if (screenshot) await run(CHROMIUM, [...flags, `--screenshot=${screenshot}`, url], { timeout: 60_000 });
  const { stdout } = await run(CHROMIUM, [...flags, '--dump-dom', url], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

const cells = (dom: string, table: string) => (new RegExp(`<table id="${table}">([\\s\\S]*?)</table>`).exec(dom)?.[1] ?? '').split('<tr>').slice(2);

describe('the status page', () => {
  let local: LocalStack;
  let demo: Promise<DemoSummary>;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error("chromium is missing: install Debian's chromium (.ci/run does)");
    mkdirSync(screenshots, { recursive: true });
    local = await startLocalStack({ ...(await throwawayStack(root, 'status')), logLevel: 'ERROR', statusPort: 0 });
  }, 120_000);
  afterAll(async () => {
    await demo?.catch(() => undefined);
    await local?.stop();
  }, 120_000);

  it('shows the pools, and the jobs moving through the system while the demo runs', async () => {
    demo = runDemo(local, { jobs: 24, log: () => undefined });
    await waitUntil('jobs in flight', async () => (await local.snapshot()).pools.some((p) => p.inFlight > 0), 60_000);
    const during = await look(local.status!.url, join(screenshots, 'status-page-during-demo.png'));
    const summary = await demo;
    await waitUntil('the last job traced', async () => (await local.snapshot()).jobs.filter((j) => j.state === 'completed').length >= 10, 30_000);
    const after = await look(local.status!.url, join(screenshots, 'status-page-after-demo.png'));

    expect(summary.ok).toBe(true);
    for (const pool of local.config.pools) expect(cells(during, 'pools').some((row) => row.includes(`<td>${pool.name}</td>`))).toBe(true);
    const jobRows = (dom: string) => cells(dom, 'jobs');
    expect(jobRows(during).length).toBeGreaterThan(0);
    expect(jobRows(after).filter((row) => row.includes('<td>completed</td>')).length).toBeGreaterThanOrEqual(10);
    // Moving: what the page showed of the jobs during the run is not what it shows after.
    expect(jobRows(after).join('')).not.toBe(jobRows(during).join(''));
    expect(statSync(join(screenshots, 'status-page-during-demo.png')).size).toBeGreaterThan(10_000);
  }, 300_000);

  it('serves the same snapshot as JSON, and nothing but GET', async () => {
    const snapshot = (await (await fetch(`${local.status!.url}status.json`)).json()) as { pools: { pool: string }[] };
    expect(snapshot.pools.map((p) => p.pool)).toEqual(local.config.pools.map((p) => p.name));
    expect((await fetch(local.status!.url, { method: 'POST' })).status).toBe(405);
  });
});
