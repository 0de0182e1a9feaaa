export * from './ports.js';
export * from './nats-server.js';
export * from './database.js';
export * from './processes.js';
export * from './stack.js';
export * from './main.js';
export * from './compose.js';
export * from './supervisor.js';
