import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TUNNEL_DRIVER, type DriverStatusReport, type TunnelFailedEvent } from '@qnet/contracts';
import { DesiredStateChanges, type DriverObserver } from '@qnet/service';
import { DeviceRepository } from '../devices/device.repository.js';
import { cleanReport } from './report.js';
import { TunnelRepository } from './tunnel.repository.js';

const differ = (a: string[], b: string[]) => [
  ...a.filter((x) => !b.includes(x)),
  ...b.filter((x) => !a.includes(x)),
];

/**
 * What the agents report of their tunnels: stored for the topology, and a device seen. An
 * endpoint's tunnels decide which routers keep its peer (see TunnelRepository.peersOf): when the
 * set changes, those routers' states are rendered again. When it names a router it failed away
 * from that it did not name before, the event `device.tunnel_failed` tells the balancer, which
 * gives it other routers.
 */
@Injectable()
export class TunnelStatusService implements DriverObserver {
  constructor(
    private readonly repo: TunnelRepository,
    private readonly devices: DeviceRepository,
    private readonly modules: ModuleRef,
  ) {}

  /** Looked up when first used: the core is built from its drivers' observers, this one among them. */
  private get changes(): DesiredStateChanges {
    return this.modules.get(DesiredStateChanges, { strict: false });
  }

  async observe(report: DriverStatusReport): Promise<void> {
    const observed = cleanReport(report.observed);
    if (!observed) return;
    const routers = {
      router_ids: [...new Set(observed.endpoint?.tunnels.map((t) => t.router_id) ?? [])],
      failed_router_ids: observed.endpoint?.failed_router_ids ?? [],
    };
    await this.changes.run(async (tx, touch) => {
      const before = await this.repo.saveReport(tx, report.host_id, observed, routers);
      if (before === undefined) return { result: undefined };
      await this.devices.seen(tx, report.host_id);
      const moved = differ(before.router_ids, routers.router_ids);
      if (moved.length)
        await touch.hosts(
          (await this.repo.keyedDevices(tx, moved)).map((host_id) => ({
            host_id,
            driver: TUNNEL_DRIVER,
          })),
        );
      if (!routers.failed_router_ids.some((id) => !before.failed_router_ids.includes(id)))
        return { result: undefined };
      const data: TunnelFailedEvent = {
        device_id: report.host_id,
        failed_router_ids: routers.failed_router_ids,
        active_router_id: observed.endpoint?.active_router_id ?? '',
      };
      return {
        result: undefined,
        events: [{ resource: 'device', event: 'tunnel_failed', id: report.host_id, data }],
      };
    });
  }
}
