/** What an event source calls: a function's invoke (a local worker, or a handler in a test). */
export type Invoke = (event: unknown) => Promise<unknown>;

export interface EventSource {
  readonly name: string;
  /** Deliver everything available now; resolves with how many records were delivered. For tests and benchmarks. */
  drain(): Promise<number>;
  /** Keep polling in the background until stop(). */
  start(): void;
  stop(): Promise<void>;
}

/** Runs `pollOnce` in a loop until stopped, sleeping `idleMs` after a poll that found nothing. */
export function pollingLoop(pollOnce: () => Promise<number>, idleMs: number, onError: (error: unknown) => void) {
  let running = false;
  let loop: Promise<void> | undefined;
  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let delivered = 0;
          try {
            delivered = await pollOnce();
          } catch (error) {
            onError(error);
          }
          if (delivered === 0 && running) await new Promise((r) => setTimeout(r, idleMs));
        }
      })();
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
