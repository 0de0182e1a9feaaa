export * from './database.js';
export * from './cluster.js';
export * from './netns.js';
export * from './routing-daemons.js';
export * from './lb-traffic.js';
export * from './ovn.js';
export * from './api-samples.js';
