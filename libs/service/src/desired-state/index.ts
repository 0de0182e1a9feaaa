export * from './changes.js';
export * from './agent-drivers.js';
export * from './outbox.js';
export * from './migrations/1733200000000-desired-state-kit.js';
export type { DB as DesiredStateDB } from './db.js';
