/*
 * The GitHub simulator on its own: `make sim`. Environment: SIM_PORT (8790), WEBHOOK_URL, WEBHOOK_SECRET,
 * SIM_ACCOUNTS (octo-org). Writes the App's private key to .local/sim-app.pem; runs until Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from './server';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const sim = await startSimulator({
  port: Number(process.env.SIM_PORT ?? 8790),
  webhookUrl: process.env.WEBHOOK_URL,
  webhookSecret: process.env.WEBHOOK_SECRET,
  accounts: (process.env.SIM_ACCOUNTS ?? 'octo-org').split(','),
});
mkdirSync(resolve(root, '.local'), { recursive: true });
writeFileSync(resolve(root, '.local/sim-app.pem'), sim.privateKeyPem, { mode: 0o600 });
console.log(
  [
    `GitHub simulator on ${sim.url} (App id ${sim.appId}, private key in .local/sim-app.pem)`,
    `  queue a run:  curl -X POST ${sim.url}/_sim/runs -d '{"owner":"octo-org","repo":"app","jobs":[{"labels":["self-hosted","docker"],"matrix":3}]}'`,
    `  stats:        curl ${sim.url}/_sim/stats`,
    'Ctrl-C stops it.',
  ].join('\n'),
);
process.on('SIGINT', () => void sim.stop().then(() => process.exit(0)));
