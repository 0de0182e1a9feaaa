export * from './config.js';
export * from './run-service.js';
export * from './http-listener.js';
export * from './compatibility-listener.js';
export * from './desired-state/index.js';
export * from './registry/index.js';
export * from './idempotency/index.js';
