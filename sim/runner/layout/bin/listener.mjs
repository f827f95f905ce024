// The simulated runner's listener (bin/Runner.Listener): what actions/runner's Runner.Listener does for an ephemeral
// JIT runner, against the GitHub simulator. Facts from the runner's sources (not its code):
// - `run --jitconfig <encoded>` (src/Runner.Listener/Runner.cs): base64 → JSON of file name → base64 content, each
//   file written into the runner's root (the parent of bin/); a config that does not decode, or a root it cannot write,
//   ends the listener with TerminatedError. No `.runner` afterwards: "Runner is not configured.", TerminatedError.
// - Return codes (Constants.Runner.ReturnCode): 0 Success, 1 TerminatedError, 2 RetryableError, 5 SessionConflict.
// - A message session per listener (MessageListener.cs): a session that the server holds for another listener is a
//   conflict, retried for up to 4 minutes, then SessionConflict; a deleted registration cannot create one.
// - A long poll for the next message; while a job runs, the job request is renewed every 60 s and holds for 10
//   minutes (JobDispatcher.cs: "job is valid till" now + 10 min): a runner that stops renewing loses its job, which
//   GitHub fails ("lost communication with the server"). The simulator scales these intervals (renewEveryMs).
// - Ephemeral: after one job the listener exits with Success. SIGINT/SIGTERM: the job ends ("The runner has received a
//   shutdown signal") and the listener leaves.
// - Logs in _diag/, jobs in <workFolder>/ (`_work`), both under the root.
// Plain Node, no dependencies.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ReturnCode = { Success: 0, TerminatedError: 1, RetryableError: 2, SessionConflict: 5 };
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const diag = join(root, '_diag');
let diagFile;
const log = (message) => {
  const line = `${new Date().toISOString()} ${message}`;
  console.log(line);
  if (diagFile) appendFileSync(diagFile, `${line}\n`);
};
const fail = (message, code = ReturnCode.TerminatedError) => {
  console.error(message);
  process.exit(code);
};

const [command, ...args] = process.argv.slice(2);
if (command !== 'run') fail(`the simulated listener supports only "run", not ${JSON.stringify(command)}`);
// Inputs come from the arguments or, when absent there, from ACTIONS_RUNNER_INPUT_<NAME> (case-insensitive), which
// the runner removes from its environment so that no job step inherits them (CommandSettings.cs).
const envInputs = {};
for (const key of Object.keys(process.env)) {
  if (!key.toUpperCase().startsWith('ACTIONS_RUNNER_INPUT_')) continue;
  envInputs[key.slice('ACTIONS_RUNNER_INPUT_'.length).toLowerCase()] = process.env[key];
  delete process.env[key];
}
const jitIndex = args.indexOf('--jitconfig');
const jitConfig = jitIndex >= 0 ? args[jitIndex + 1] : envInputs.jitconfig;
if (jitConfig !== undefined) {
  try {
    const files = JSON.parse(Buffer.from(jitConfig, 'base64').toString('utf8'));
    if (!files || typeof files !== 'object') throw new Error('The JIT configuration is not a JSON object.');
    for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), Buffer.from(String(content), 'base64'), { mode: 0o600 });
  } catch (error) {
    fail(error.message);
  }
}
let settings;
let credentials;
try {
  settings = JSON.parse(readFileSync(join(root, '.runner'), 'utf8'));
  credentials = JSON.parse(readFileSync(join(root, '.credentials'), 'utf8'));
} catch {
  fail('Runner is not configured.');
}
try {
  mkdirSync(diag, { recursive: true });
  diagFile = join(diag, `Runner_${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-utc.log`);
} catch (error) {
  fail(error.message);
}

const url = settings.gitHubUrl;
const headers = { authorization: `RunnerToken ${credentials.data?.clientId}`, 'content-type': 'application/json' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function call(method, path, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      // The network: retried, as the runner retries its HTTP calls; the server sees no poll meanwhile.
      if (attempt >= 10) throw error;
      await sleep(500 * attempt);
    }
  }
}

let session;
let running;
let stopping = false;
const leave = async (code) => {
  if (session) await call('DELETE', `/_runner/sessions/${session.sessionId}`).catch(() => undefined);
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('The runner has received a shutdown signal.');
    const finish = running ? call('POST', `/_runner/jobs/${running.id}/complete`, { conclusion: 'failure' }).catch(() => undefined) : Promise.resolve();
    void finish.then(() => leave(ReturnCode.Success));
  });
}

// The session: a conflict is retried (4 minutes on GitHub; the simulator says how long), a deleted registration ends it.
const conflictUntil = Date.now() + Number(process.env.SIM_RUNNER_SESSION_CONFLICT_RETRY_MS ?? 240_000);
for (;;) {
  const response = await call('POST', '/_runner/sessions', { agentName: settings.agentName });
  if (response.ok) {
    session = await response.json();
    break;
  }
  if (response.status === 409 && Date.now() < conflictUntil) {
    log('A session for this runner already exists. Retrying.');
    await sleep(1_000);
    continue;
  }
  if (response.status === 409) fail('Failed to create session: a session for this runner already exists.', ReturnCode.SessionConflict);
  fail(`Failed to create a session. The runner registration has been deleted from the server (${response.status}).`);
}
mkdirSync(join(root, settings.workFolder ?? '_work'), { recursive: true });
log(`√ Connected to GitHub as ${settings.agentName}`);
log('Listening for Jobs');

async function runJob(job) {
  running = job;
  const workspace = join(root, settings.workFolder ?? '_work', job.repo ?? 'repo', job.repo ?? 'repo');
  mkdirSync(workspace, { recursive: true });
  log(`Running job: ${job.name}`);
  const ends = Date.now() + job.durationMs;
  let conclusion = job.outcome;
  while (Date.now() < ends) {
    await sleep(Math.min(job.renewEveryMs, ends - Date.now()));
    if (stopping) return new Promise(() => undefined);
    if (Date.now() >= ends) break;
    const renewed = await call('POST', `/_runner/jobs/${job.id}/renew`).catch(() => undefined);
    if (renewed?.ok && (await renewed.json()).cancelled) {
      conclusion = 'cancelled';
      break;
    }
    if (renewed && !renewed.ok) {
      log(`Job request ${job.id} is no longer ours (${renewed.status}); abandoning it.`);
      return 'lost';
    }
  }
  const done = await call('POST', `/_runner/jobs/${job.id}/complete`, { conclusion });
  log(`Job ${job.name} completed with result: ${{ success: 'Succeeded', cancelled: 'Canceled' }[conclusion] ?? 'Failed'} (${done.status})`);
  running = undefined;
  return 'done';
}

for (;;) {
  const response = await call('GET', `/_runner/sessions/${session.sessionId}/next?waitMs=20000`);
  if (stopping) await new Promise(() => undefined);
  if (response.status === 204) continue;
  if (response.status === 401 || response.status === 404 || response.status === 410) {
    log('Runner registration has been deleted; exiting.');
    process.exit(ReturnCode.TerminatedError);
  }
  if (!response.ok) {
    log(`GET next message failed (${response.status}); retrying.`);
    await sleep(1_000);
    continue;
  }
  await runJob(await response.json());
  // Ephemeral: one job, then the registration is gone and the listener leaves.
  await leave(ReturnCode.Success);
}
