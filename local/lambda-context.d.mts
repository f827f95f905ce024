import type { Context } from 'aws-lambda';

export function lambdaContext(functionName: string, options?: { timeoutMs?: number; region?: string; memoryMb?: number }): Context;
