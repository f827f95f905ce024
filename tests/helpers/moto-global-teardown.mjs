export default async function motoGlobalTeardown() {
  await globalThis.__moto?.stop();
}
