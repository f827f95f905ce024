/*
 * Counts AWS API calls per `Service.Operation` (one per command, whatever its retries), so that a benchmark can
 * report calls per job. The counts live on globalThis: one tally per execution environment, readable by the local
 * runtime without a reference to this module's instance.
 */

const KEY = '__ephemeralRunnersAwsCalls';

type Tally = Map<string, number>;

function tally(): Tally {
  const holder = globalThis as { [KEY]?: Tally };
  holder[KEY] ??= new Map();
  return holder[KEY];
}

interface CountableClient {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** Adds the counting middleware to an AWS SDK v3 client; returns the client. */
export function countAwsCalls<T>(client: T): T {
  (client as unknown as CountableClient).middlewareStack.add(
    (next, context) =>
      async function countAwsCall(args) {
        const name = `${(context.clientName ?? 'Unknown').replace(/Client$/, '')}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
        tally().set(name, (tally().get(name) ?? 0) + 1);
        return next(args);
      },
    { step: 'initialize', name: 'countAwsCalls' },
  );
  return client;
}

/** The calls counted so far in this execution environment. */
export function awsCallCounts(): Record<string, number> {
  return Object.fromEntries(tally());
}
