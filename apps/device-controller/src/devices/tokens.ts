export const DEVICE_CONFIG = Symbol('DEVICE_CONFIG');
export const SECRET_BOX = Symbol('SECRET_BOX');
