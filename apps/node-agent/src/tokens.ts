export const AGENT_IDENTITY = Symbol('AGENT_IDENTITY');
export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
export const EXECUTOR = Symbol('EXECUTOR');
export const DRIVER_RUNNERS = Symbol('DRIVER_RUNNERS');
