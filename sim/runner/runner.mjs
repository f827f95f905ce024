// The simulated actions runner: started exactly as the real one (`run.sh --jitconfig <encoded>`). The encoded JIT
// config names the simulator and the runner's credential; the runner connects, takes ONE job, runs it for its
// duration, reports the result and exits 0 (ephemeral). Plain Node, no dependencies: it runs in a minimal image.
const args = process.argv.slice(2);
const index = args.indexOf('--jitconfig');
if (index < 0 || !args[index + 1]) {
  console.error('usage: run.sh --jitconfig <encoded JIT config>');
  process.exit(2);
}
// GitHub's format (actions/runner, Runner.cs): base64 of {file name: base64 content}; the simulator's URL is in
// `.runner` (gitHubUrl), the runner's credential in `.credentials` (clientId). See sim/jit-config.ts.
let config;
try {
  const files = JSON.parse(Buffer.from(args[index + 1], 'base64').toString('utf8'));
  const read = (name) => JSON.parse(Buffer.from(files[name], 'base64').toString('utf8'));
  const settings = read('.runner');
  config = { url: settings.gitHubUrl, runnerName: settings.agentName, secret: read('.credentials').data.clientId };
  if (!config.url || !config.secret) throw new Error('incomplete');
} catch {
  console.error('the JIT config is not valid');
  process.exit(2);
}
const headers = { authorization: `RunnerToken ${config.secret}`, 'content-type': 'application/json' };
const log = (message) => console.log(`${new Date().toISOString()} ${message}`);

async function call(method, path, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(`${config.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      if (attempt >= 10) throw error;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

const connected = await call('POST', '/_runner/connect');
if (!connected.ok) {
  log(`Failed to connect: ${connected.status} ${await connected.text()}`);
  process.exit(1);
}
log(`√ Connected to GitHub as ${config.runnerName}`);
log('Listening for Jobs');
for (;;) {
  const response = await call('GET', '/_runner/next?waitMs=20000');
  if (response.status === 204) continue;
  if (response.status === 401 || response.status === 410) {
    log('Runner was removed; exiting');
    process.exit(0);
  }
  if (!response.ok) {
    log(`Unexpected answer ${response.status}; retrying`);
    await new Promise((r) => setTimeout(r, 1000));
    continue;
  }
  const job = await response.json();
  log(`Running job: ${job.name}`);
  await new Promise((r) => setTimeout(r, job.durationMs));
  const done = await call('POST', `/_runner/jobs/${job.id}/complete`, { conclusion: job.outcome });
  log(`Job ${job.name} completed with result: ${job.outcome === 'success' ? 'Succeeded' : 'Failed'} (${done.status})`);
  process.exit(0);
}
