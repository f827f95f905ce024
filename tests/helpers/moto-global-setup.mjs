// One moto server for the whole integration run; each test file isolates itself with its own table names.
// Plain JavaScript: jest loads globalSetup without the ts-jest ESM transform.
import { freePort, startMotoServer } from '../../local/moto-server.mjs';

export default async function motoGlobalSetup() {
  if (process.env.MOTO_ENDPOINT) return; // a moto already running (e.g. `make local`'s) was named explicitly
  const moto = await startMotoServer(await freePort());
  process.env.MOTO_ENDPOINT = moto.endpoint;
  globalThis.__moto = moto;
}
