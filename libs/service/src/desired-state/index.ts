export * from './changes.js';
export * from './agent-drivers.js';
export * from './outbox.js';
export * from './migration.js';
