import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { NatsConnection } from '@nats-io/transport-node';
import { isLinkDown, NATS_CONNECTION, request } from '@qnet/bus';
import { BUS_SERVICES, pingRpc } from '@qnet/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Liveness: the process serves HTTP. */
  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: the bus is connected and every service answers Ping with its checks passing. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.natsReady(),
      ...BUS_SERVICES.map((s) => () => this.serviceReady(s.id)),
    ]);
  }

  private natsReady(): HealthIndicatorResult {
    const ind = this.indicators.check('nats');
    if (this.nc.isClosed()) return ind.down({ message: 'connection closed' });
    if (isLinkDown(this.nc)) return ind.down({ message: 'NATS server unreachable; reconnecting' });
    return ind.up({ server: this.nc.getServer() });
  }

  private async serviceReady(
    id: (typeof BUS_SERVICES)[number]['id'],
  ): Promise<HealthIndicatorResult> {
    const ind = this.indicators.check(id);
    try {
      const reply = await request(
        this.nc,
        pingRpc(id),
        {},
        { timeoutMs: this.config.readyTimeoutMs },
      );
      const failing = Object.entries(reply.checks).filter(([, v]) => v !== 'ok');
      const data = { instance: reply.instance, uptime_s: reply.uptime_s, checks: reply.checks };
      return failing.length ? ind.down(data) : ind.up(data);
    } catch (err) {
      return ind.down({ message: (err as Error).message });
    }
  }
}
