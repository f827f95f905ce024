export interface MotoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export function startMotoServer(port: number, options?: { logFile?: string }): Promise<MotoServer>;
export { freePort } from './free-port.mjs';
