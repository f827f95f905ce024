/* GitHub's runner scale-set protocol: the Actions service (scale sets, sessions, messages, JIT runners). */
export * from './actions-service';
export * from './scale-set-errors';
export * from './scale-set-messages';
export * from './scale-sets';
