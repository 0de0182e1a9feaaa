export const LB_CONFIG = Symbol('LB_CONFIG');
