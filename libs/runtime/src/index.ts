export * from './config.js';
export * from './context.js';
export * from './logger.js';
export * from './shutdown.js';
export * from './secrets.js';
export * from './listen.js';
export * from './end-of-turn.js';
export * from './send-json.js';
