export const VPN_CONFIG = Symbol('VPN_CONFIG');
export const SECRET_BOX = Symbol('SECRET_BOX');
