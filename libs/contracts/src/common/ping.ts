import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { BusServiceId } from '../services.js';
import { defineRpc } from '../rpc.js';

export class PingRequest {
  @IsOptional() @IsString() @MaxLength(64) from?: string;
}

export interface PingReply {
  service: string;
  instance: string;
  version: string;
  uptime_s: number;
  /** Dependency checks of the service, e.g. {"database": "ok"}. */
  checks: Record<string, 'ok' | string>;
}

/** Every service answers qnet.rpc.<id>.Ping; the gateway's /ready asks them all. */
export const pingRpc = (service: BusServiceId) =>
  defineRpc<PingRequest, PingReply>(service, 'Ping', PingRequest);
