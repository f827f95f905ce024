import { z } from 'zod';

/*
 * What the Lambda orchestrator sends the runner Lambda (asynchronous invoke). No secret: the runner reads its JIT
 * config from the named SSM parameter (jit-parameters.ts).
 */
export const runnerInvocation = z.strictObject({
  runnerName: z.string().regex(/^[a-z0-9-]{1,128}$/),
  pool: z.string().min(1),
  jobId: z.int().positive(),
  traceHeader: z.string().optional(),
});

export type RunnerInvocation = z.infer<typeof runnerInvocation>;
