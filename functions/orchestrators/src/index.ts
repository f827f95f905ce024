/*
 * The orchestrators' API: the handler factory, launch and teardown, the host rules, spot interruptions. Each host
 * kind's Lambda entry is in entries/; the hosts themselves are the `./hosts` subpath.
 */
export * from './orchestrator-handler';
export * from './orchestrate';
export * from './host-rules';
export * from './interruptions';
export * from './launch-errors';
export * from './config';
export * from './contract';
