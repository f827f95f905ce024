/* The listener's API: its handler factory, the listening loop on its ports, its deployment contract. */
export * from './listen';
export * from './listener-handler';
export * from './contract';
export * from './scale-set-apps';
