export * from './lookups.js';
export * from './pages.js';
export * from './placement.js';
