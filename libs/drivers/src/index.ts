export * from './executor.js';
export * from './driver.js';
export * from './capabilities.js';
export * from './linux/driver.js';
export * from './linux/observed.js';
export * from './linux/plan.js';
export * from './linux/spec.js';
