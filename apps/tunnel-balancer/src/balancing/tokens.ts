export const TUNNEL_CONFIG = Symbol('TUNNEL_CONFIG');
