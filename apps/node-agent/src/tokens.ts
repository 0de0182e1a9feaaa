export const AGENT_IDENTITY = Symbol('AGENT_IDENTITY');
export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
export const EXECUTOR = Symbol('EXECUTOR');
export const DRIVER_RUNNERS = Symbol('DRIVER_RUNNERS');
/** The host's tunnel identity (tunnel-identity.ts), when it is a routing server or endpoint. */
export const TUNNEL_IDENTITY = Symbol('TUNNEL_IDENTITY');
/** The `tunnel` driver, when the host has one (its active tunnels go into the routing metrics). */
export const TUNNEL = Symbol('TUNNEL');
