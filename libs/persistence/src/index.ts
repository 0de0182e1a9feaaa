export * from './data-source.js';
export * from './persistence.module.js';
export * from './test-guard.js';
export * from './embedded.js';
export * from './db-errors.js';
export * from './extensions.js';
export * from './tenancy.js';
export * from './query.js';
