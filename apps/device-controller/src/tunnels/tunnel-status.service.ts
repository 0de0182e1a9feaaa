import { Injectable } from '@nestjs/common';
import type { DriverStatusReport, TunnelFailedEvent } from '@qnet/contracts';
import { Outbox, type DriverObserver } from '@qnet/service';
import { DeviceRepository } from '../devices/device.repository.js';
import { cleanReport } from './report.js';
import { TunnelRepository } from './tunnel.repository.js';

/**
 * What the agents report of their tunnels: stored for the topology, and a device seen. When an
 * endpoint names a router it failed away from that it did not name before, the event
 * `device.tunnel_failed` tells the balancer, which gives it other routers.
 */
@Injectable()
export class TunnelStatusService implements DriverObserver {
  constructor(
    private readonly repo: TunnelRepository,
    private readonly devices: DeviceRepository,
    private readonly outbox: Outbox,
  ) {}

  async observe(report: DriverStatusReport): Promise<void> {
    const observed = cleanReport(report.observed);
    if (!observed) return;
    const failed = observed.endpoint?.failed_router_ids ?? [];
    await this.outbox.transaction(async (tx, out) => {
      const before = await this.repo.saveReport(tx, report.host_id, observed, failed);
      if (before === undefined) return;
      await this.devices.seen(tx, report.host_id);
      if (!failed.some((id) => !before.includes(id))) return;
      const data: TunnelFailedEvent = {
        device_id: report.host_id,
        failed_router_ids: failed,
        active_router_id: observed.endpoint?.active_router_id ?? '',
      };
      out.event({ resource: 'device', event: 'tunnel_failed', id: report.host_id, data });
    });
  }
}
