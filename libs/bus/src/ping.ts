import { Controller, Inject, Optional, type Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { pingRpc, PingRequest, type BusServiceId, type PingReply } from '@qnet/contracts';
import { RpcHandler } from './rpc-handler.js';
import { HEALTH_CHECKS, SERVICE_INFO, type HealthCheck, type ServiceInfo } from './tokens.js';

/** qnet.rpc.<service>.Ping: identity, uptime and the result of each dependency check. */
export function createPingController(service: BusServiceId): Type {
  @Controller()
  class PingController {
    constructor(
      @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
      @Optional() @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[] = [],
    ) {}

    @RpcHandler(pingRpc(service))
    async ping(@Payload() _req: PingRequest): Promise<PingReply> {
      const results = await Promise.all(
        (this.checks ?? []).map(async (c) => {
          try {
            await c.check();
            return [c.name, 'ok'] as const;
          } catch (err) {
            return [c.name, (err as Error).message || 'failed'] as const;
          }
        }),
      );
      return {
        service: this.info.id,
        instance: this.info.instance,
        version: this.info.version,
        uptime_s: Math.round((Date.now() - this.info.startedAt) / 1000),
        checks: Object.fromEntries(results),
      };
    }
  }
  return PingController;
}
