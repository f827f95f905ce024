import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { newInvocationTrace, sendFunctionSegment } from './traces/invocation-trace';

/*
 * Lambda semantics for the local stack: each function runs in worker threads (each its own module instance and
 * environment variables, like an execution environment), one invocation at a time per environment, with its timeout.
 */

export interface LocalFunction {
  readonly name: string;
  invoke<TResult = unknown>(event: unknown): Promise<TResult>;
  /** AWS API calls made by the function so far, per `Service.Operation`. */
  awsCalls(): Promise<Record<string, number>>;
  /** Invocations so far and their summed duration: what Lambda bills (with the memory size). */
  usage(): { readonly invocations: number; readonly durationMs: number };
  /** Each execution environment's init: the bundle's import and its top-level work (Lambda's "Init Duration"), ms. */
  initDurations(): readonly number[];
  /** What the function runs with: its bundle and its environment variables. */
  readonly bundle: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Kills the execution environment in the middle of what it is doing; the next invocation starts a new one. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalFunctionOptions {
  readonly name: string;
  /** Path of the esbuild bundle (dist/<name>/index.mjs). */
  readonly bundle: string;
  readonly environment: Record<string, string>;
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
  /** Execution environments (default 1): concurrent invocations at most. */
  readonly concurrency?: number;
  /** Each line the function writes (its logs), instead of this process's stdout/stderr (as CloudWatch Logs gets them). */
  readonly onLog?: (line: string) => void;
}

export class InvocationError extends Error {
  constructor(
    functionName: string,
    readonly errorName: string,
    message: string,
  ) {
    super(`${functionName} failed: ${errorName}: ${message}`);
    this.name = 'InvocationError';
  }
}

type WorkerReply = { ready: true; initMs: number } | { id: number; result?: unknown; error?: { name: string; message: string } };

export async function startLocalFunction(options: LocalFunctionOptions): Promise<LocalFunction> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Lambda runs one invocation per execution environment and adds environments under load, up to the function's
  // concurrency: each of ours has a queue, and an invocation goes to the least busy one.
  type Slot = { environment: Environment; queue: Promise<unknown>; waiting: number };
  const slots: Slot[] = await Promise.all(
    Array.from({ length: options.concurrency ?? 1 }, async () => ({
      environment: await startEnvironment(options, timeoutMs),
      queue: Promise.resolve(),
      waiting: 0,
    })),
  );
  /** AWS calls of environments that crashed: still counted. */
  const retiredCalls: Record<string, number> = {};

  const usage = { invocations: 0, durationMs: 0 };
  // Active tracing, as the Lambda service does it: a trace header per invocation and the function's own segment.
  const daemon = options.environment.AWS_XRAY_DAEMON_ADDRESS;
  const timed = async (slot: Slot, event: unknown) => {
    const started = performance.now();
    const trace = daemon ? newInvocationTrace() : undefined;
    let failed = false;
    try {
      return await slot.environment.send({ event, ...(trace ? { traceHeader: trace.header } : {}) });
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      usage.invocations++;
      usage.durationMs += performance.now() - started;
      if (trace) await sendFunctionSegment(daemon!, trace, options.name, { error: failed });
    }
  };

  /** Init durations of every environment started, crashed ones included. */
  const inits: number[] = slots.map((slot) => slot.environment.initMs);

  return {
    name: options.name,
    bundle: options.bundle,
    environment: options.environment,
    usage: () => ({ ...usage }),
    initDurations: () => [...inits],
    invoke<TResult>(event: unknown): Promise<TResult> {
      const slot = slots.reduce((least, s) => (s.waiting < least.waiting ? s : least));
      slot.waiting++;
      const result = slot.queue.then(() => timed(slot, event)).finally(() => slot.waiting--);
      slot.queue = result.catch(() => undefined);
      return result as Promise<TResult>;
    },
    async awsCalls() {
      const calls = { ...retiredCalls };
      for (const slot of slots) {
        for (const [operation, n] of Object.entries((await slot.environment.send({ stats: true })) as Record<string, number>))
          calls[operation] = (calls[operation] ?? 0) + n;
      }
      return calls;
    },
    async crash() {
      // An execution environment dies mid-invocation (as a Lambda does on an out-of-memory kill): the invocation
      // fails, nothing after that point runs, and the next invocation gets a fresh environment (a cold start).
      const slot = slots.find((s) => s.waiting > 0) ?? slots[0]!;
      const dead = slot.environment;
      slot.environment = await startEnvironment(options, timeoutMs);
      inits.push(slot.environment.initMs);
      const calls = (await dead.send({ stats: true })) as Record<string, number>;
      for (const [operation, n] of Object.entries(calls)) retiredCalls[operation] = (retiredCalls[operation] ?? 0) + n;
      await dead.terminate();
    },
    async stop() {
      await Promise.all(slots.map((slot) => slot.environment.terminate()));
    },
  };
}

type Environment = Awaited<ReturnType<typeof startEnvironment>>;

async function startEnvironment(options: LocalFunctionOptions, timeoutMs: number) {
  const worker = new Worker(new URL('./lambda-worker.mjs', import.meta.url), {
    workerData: { bundle: options.bundle, functionName: options.name, timeoutMs, memoryMb: options.memoryMb ?? 512 },
    env: { ...process.env, ...options.environment, AWS_LAMBDA_FUNCTION_NAME: options.name },
    ...(options.onLog ? { stdout: true, stderr: true } : {}),
  });
  if (options.onLog) {
    for (const stream of [worker.stdout, worker.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on('line', options.onLog);
  }
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let initMs = 0;
  const failAll = (error: Error) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  const ready = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (reply: WorkerReply) => {
      if ('ready' in reply) {
        initMs = reply.initMs;
        return resolve();
      }
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if (!call) return;
      if (reply.error) call.reject(new InvocationError(options.name, reply.error.name, reply.error.message));
      else call.resolve(reply.result);
    });
  });
  await ready;
  worker.on('error', failAll);
  let terminated = false;

  return {
    initMs,
    send: (message: { event?: unknown; stats?: true; traceHeader?: string }) =>
      new Promise<unknown>((resolve, reject) => {
        // An invocation queued behind one the stop ended would wait for an answer that never comes.
        if (terminated) return reject(new InvocationError(options.name, 'Runtime.ExitError', 'the execution environment was terminated'));
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, ...message });
      }),
    async terminate() {
      terminated = true;
      await worker.terminate();
      failAll(new InvocationError(options.name, 'Runtime.ExitError', 'the execution environment was terminated'));
    },
  };
}
