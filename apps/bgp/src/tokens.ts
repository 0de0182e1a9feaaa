export const SECRET_BOX = Symbol('SECRET_BOX');
export const ROUTE_FILTER = Symbol('ROUTE_FILTER');
