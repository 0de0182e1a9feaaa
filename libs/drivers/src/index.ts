export * from './executor.js';
export * from './driver.js';
export * from './capabilities.js';
export * from './linux/bridges.js';
