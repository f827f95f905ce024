import { createServer, type Server } from 'node:http';
import type { StatusSnapshot } from './status-snapshot';

/*
 * The local stack's status page on 127.0.0.1: one HTML page (no build step, no dependency) that fetches
 * /status.json every second and redraws its tables: pools, recent jobs with their stage timeline, runners and hosts,
 * the reconcile passes. The JSON is the same snapshot `make status` prints.
 */

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ephemeral runners — local stack</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  table { border-collapse: collapse; } td, th { padding: .25rem .6rem; border-bottom: 1px solid #d0d7de; text-align: left; white-space: nowrap; }
  th { background: #f6f8fa; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .bar { display: inline-block; height: .7rem; background: #2da44e; vertical-align: middle; } .full { background: #cf222e; }
  .muted { color: #656d76; } .err { color: #cf222e; }
</style>
</head>
<body>
<h1>ephemeral runners — local stack</h1>
<div class="muted" id="at">loading…</div>
<h2>Pools</h2><table id="pools"></table>
<h2>Recent jobs <span class="muted">(stage timeline: ms from the stage before)</span></h2><table id="jobs"></table>
<h2>Runners (GitHub) and hosts</h2><table id="runners"></table>
<h2>Reconcile passes, latest</h2><table id="passes"></table>
<script>
const esc = (v) => String(v ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const row = (cells, head) => '<tr>' + cells.map((c) => (head ? '<th>' : typeof c === 'number' ? '<td class="n">' : '<td>') + (typeof c === 'object' && c !== null ? c.html : esc(c)) + (head ? '</th>' : '</td>')).join('') + '</tr>';
const STEPS = ['webhook', 'table', 'messenger', 'publisher', 'orchestrator', 'JIT config', 'host created', 'job started', 'completed'];
function draw(s) {
  document.getElementById('at').textContent = 'updated ' + new Date(s.at).toLocaleTimeString() + ' — refreshes every second';
  document.getElementById('pools').innerHTML = row(['pool', 'host', 'in flight', 'capacity', '', 'queued', 'oldest wait (s)', 'launches last min', 'failing launches', 'last launch error'], true)
    + s.pools.map((p) => row([p.pool, p.host, p.inFlight, p.maxRunners, { html: '<span class="bar' + (p.inFlight >= p.maxRunners ? ' full' : '') + '" style="width:' + Math.round(80 * Math.min(1, p.inFlight / p.maxRunners)) + 'px"></span>' }, p.queued, p.oldestWaitSeconds ?? '', p.launchesLastMinute + ' / ' + p.launchesPerMinute, p.failingLaunches, { html: '<span class="err">' + esc(p.lastLaunchError) + '</span>' }])).join('');
  document.getElementById('jobs').innerHTML = row(['job', 'pool', 'state', 'runner', 'notice', ...STEPS], true)
    + s.jobs.map((j) => row([j.jobId, j.pool, j.state, j.runnerName, j.notice, ...STEPS.map((k) => (j.steps[k] ?? ''))])).join('');
  const hosts = new Set(s.hosts.map((h) => h.runnerName));
  const names = [...new Set([...s.runners.map((r) => r.name), ...hosts])];
  document.getElementById('runners').innerHTML = row(['runner', 'on GitHub', 'busy', 'host'], true)
    + names.map((n) => { const r = s.runners.find((x) => x.name === n); return row([n, r ? r.status : '—', r ? (r.busy ? 'busy' : 'idle') : '', hosts.has(n) ? 'running' : '—']); }).join('');
  document.getElementById('passes').innerHTML = row(['function', 'pass', 'at', 'what it did'], true)
    + s.passes.map((p) => row([p.function, p.message, new Date(p.at).toLocaleTimeString(), Object.entries(p.counts).filter(([, n]) => n > 0).map(([k, n]) => k + ' ' + n).join(', ') || 'nothing to do'])).join('');
}
async function tick() {
  try { draw(await (await fetch('status.json')).json()); } catch (e) { document.getElementById('at').textContent = 'the stack does not answer: ' + e; }
  setTimeout(tick, 1000);
}
tick();
</script>
</body>
</html>
`;

export interface StatusPage {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startStatusPage(port: number, snapshot: () => Promise<StatusSnapshot>): Promise<StatusPage> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://status').pathname;
    if (request.method !== 'GET') return void response.writeHead(405).end();
    if (path === '/') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    if (path === '/status.json') {
      snapshot().then(
        (s) => response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(s)),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
