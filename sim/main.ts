/*
 * The GitHub simulator on its own: `make sim`. Environment: SIM_PORT (8790), WEBHOOK_URL, WEBHOOK_SECRET,
 * SIM_ACCOUNTS (octo-org); runner scale sets: SIM_SCALE_SET_ACQUIRE (auto | explicit), SIM_SCALE_SET_LONG_POLL_MS
 * (50000). Writes the App's private key to .local/sim-app.pem; runs until Ctrl-C.
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
  scaleSets: {
    ...(process.env.SIM_SCALE_SET_ACQUIRE === 'explicit' ? { acquire: 'explicit' as const } : {}),
    ...(process.env.SIM_SCALE_SET_LONG_POLL_MS ? { longPollMs: Number(process.env.SIM_SCALE_SET_LONG_POLL_MS) } : {}),
  },
});
mkdirSync(resolve(root, '.local'), { recursive: true });
writeFileSync(resolve(root, '.local/sim-app.pem'), sim.privateKeyPem, { mode: 0o600 });
console.log(
  [
    `GitHub simulator on ${sim.url} (App id ${sim.appId}, private key in .local/sim-app.pem)`,
    `  queue a run:  curl -X POST ${sim.url}/_sim/runs -d '{"owner":"octo-org","repo":"app","jobs":[{"labels":["self-hosted","docker"],"matrix":3}]}'`,
    `  stats:        curl ${sim.url}/_sim/stats`,
    `  scale sets:   curl ${sim.url}/_sim/scale-sets   (Actions service: ${sim.url}/broker/rest/, acquire ${sim.scaleSets.timing.acquire})`,
    'Ctrl-C stops it.',
  ].join('\n'),
);
process.on('SIGINT', () => void sim.stop().then(() => process.exit(0)));
