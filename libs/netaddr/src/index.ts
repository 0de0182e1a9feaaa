export * from './cidr.js';
export * from './mac.js';
export * from './ifname.js';
export * from './wgkey.js';
