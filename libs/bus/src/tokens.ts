import type { BusServiceId } from '@qnet/contracts';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const SERVICE_INFO = Symbol('SERVICE_INFO');
/** Multi-provider of named dependency checks reported by Ping, e.g. the database. */
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

export interface ServiceInfo {
  id: BusServiceId;
  instance: string;
  version: string;
  startedAt: number;
}

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}
