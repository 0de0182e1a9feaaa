export * from './database.js';
export * from './cluster.js';
export * from './netns.js';
