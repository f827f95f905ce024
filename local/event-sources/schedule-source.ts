import { randomUUID } from 'node:crypto';
import type { EventSource, Invoke } from './event-source';

/** An EventBridge schedule: invokes with a `Scheduled Event` every `everyMs`. drain() fires it once. */
export function createScheduleSource(options: {
  name: string;
  everyMs: number;
  invoke: Invoke;
  region: string;
  onError?: (error: unknown) => void;
  /** Fire once when started too (a rule's first invocation, which on AWS comes within a minute of the deploy). */
  fireAtStart?: boolean;
}): EventSource {
  const onError = options.onError ?? ((error) => console.error(`[schedule ${options.name}]`, error));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const fire = () => {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: options.region,
      resources: [`arn:aws:events:${options.region}:000000000000:rule/${options.name}`],
      detail: {},
    };
    running = options.invoke(event).catch(onError);
    return running;
  };
  return {
    name: `schedule:${options.name}`,
    async drain() {
      await fire();
      return 1;
    },
    start() {
      if (timer) return;
      timer = setInterval(() => void fire(), options.everyMs);
      if (options.fireAtStart) void fire();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
