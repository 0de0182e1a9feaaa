export * from './changes.js';
export * from './agent-drivers.js';
export * from './outbox.js';
export * from './migrations/index.js';
export type { DB as DesiredStateDB } from './db.js';
