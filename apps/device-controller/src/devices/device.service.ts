import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION, requestAgent } from '@qnet/bus';
import {
  DeviceConfigCall,
  QnetError,
  TUNNEL_DRIVER,
  type DeviceConfigCommand,
  type DeviceConfigDocument,
  type DeviceView,
  type ListDevicesRequest,
  type ListDevicesResponse,
  type PushConfigResponse,
  type RegisterDeviceRequest,
  type RegisteredDeviceView,
  type TopologyView,
  type UpdateDeviceStatusRequest,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, type SqlTx } from '@qnet/persistence';
import { DesiredStateChanges, Outbox, type Touch } from '@qnet/service';
import type { SecretBox } from '@qnet/runtime';
import type { DeviceConfig } from '../config.js';
import { liveEdge } from '../tunnels/report.js';
import { TunnelRepository } from '../tunnels/tunnel.repository.js';
import { DeviceRepository, type DeviceRow } from './device.repository.js';
import { addressOf, poolsOf, type AddressPool } from './pools.js';
import { checkTunnelConfig } from './tunnel-config.js';
import { DEVICE_CONFIG, SECRET_BOX } from './tokens.js';

@Injectable()
export class DeviceService {
  private readonly pools;

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: DeviceRepository,
    private readonly tunnels: TunnelRepository,
    private readonly changes: DesiredStateChanges,
    private readonly outbox: Outbox,
  ) {
    this.pools = poolsOf(config);
  }

  /**
   * Registers a device, allocating one tunnel address from each pool; registering it again answers
   * the same addresses. A new device gets its own PSK, returned this once and stored sealed. A
   * device with a key takes part in the tunnels: its state, and when its key or address changed
   * that of the devices it has tunnels with, are rendered and pushed.
   */
  async register(req: RegisterDeviceRequest): Promise<RegisteredDeviceView> {
    const psk = randomBytes(32).toString('base64');
    return this.changes.run<RegisteredDeviceView>(async (tx, touch) => {
      await this.repo.lockPools(tx);
      const existing = await this.repo.find(tx, req.device_id);
      if (existing) {
        if (existing.type !== req.type)
          throw new QnetError(
            'already_exists',
            `device ${req.device_id} is registered as ${existing.type}`,
            [{ field: 'type', message: `must be ${existing.type} for this device` }],
          );
        const row = await this.repo.refresh(tx, req.device_id, {
          name: req.name,
          addresses: req.addresses ?? [],
          ...(req.public_key ? { public_key: req.public_key } : {}),
        });
        const moved =
          row.public_key !== existing.public_key || row.addresses[0] !== existing.addresses[0];
        await this.touchTunnels(tx, touch, row, moved);
        return { result: { ...toView(row, this.config.offlineAfterMs), created: false } };
      }
      const v4 = await this.repo.lowestFree(tx, 'tun_ipv4_offset', this.pools.v4);
      const v6 = await this.repo.lowestFree(tx, 'tun_ipv6_offset', this.pools.v6);
      if (v4 === undefined || v6 === undefined) {
        const [field, pool] =
          v4 === undefined ? ['tun_ipv4', this.pools.v4] : ['tun_ipv6', this.pools.v6];
        throw new QnetError(
          'aborted',
          `${field}: no free address left in ${this.describe(pool)} (pool exhausted)`,
          [{ field, message: 'pool exhausted' }],
        );
      }
      const row = await this.repo.insert(tx, {
        device_id: req.device_id,
        type: req.type,
        name: req.name,
        addresses: req.addresses ?? [],
        tun_ipv4: addressOf(this.pools.v4, v4),
        tun_ipv4_offset: v4,
        tun_ipv6: addressOf(this.pools.v6, v6),
        tun_ipv6_offset: v6,
        psk_sealed: this.secrets.seal(psk),
        public_key: req.public_key ?? null,
      });
      // A router registered again after a delete may be named by decisions already.
      await this.touchTunnels(tx, touch, row, true);
      const view = toView(row, this.config.offlineAfterMs);
      return {
        result: { ...view, created: true, psk },
        events: [{ resource: 'device', event: 'registered', id: row.device_id, data: view }],
      };
    });
  }

  async get(id: string): Promise<DeviceView> {
    return toView(await this.repo.get(id), this.config.offlineAfterMs);
  }

  async list(req: ListDevicesRequest): Promise<ListDevicesResponse> {
    const page = await this.repo.list(req);
    return {
      devices: page.items.map((r) => toView(r, this.config.offlineAfterMs)),
      next_page_token: page.next_page_token,
    };
  }

  /** Replaces a device's config, checked against its type; a router's endpoints follow its port. */
  updateConfig(id: string, config: DeviceConfigDocument): Promise<DeviceView> {
    return this.changes.run(async (tx, touch) => {
      const device = await this.repo.find(tx, id);
      if (!device) throw QnetError.notFound('device', id);
      checkTunnelConfig(device.type, config, this.pools);
      const row = await this.repo.setConfig(tx, id, config);
      await this.touchTunnels(tx, touch, row, row.type === 'routing_server');
      return {
        result: toView(row, this.config.offlineAfterMs),
        events: [deviceEvent('config_updated', id, { device_id: id })],
      };
    });
  }

  updateStatus(req: UpdateDeviceStatusRequest): Promise<DeviceView> {
    return this.outbox.transaction(async (tx, out) => {
      const row = await this.repo.setStatus(tx, req.device_id, req.status, req.details ?? {});
      out.event(
        deviceEvent('status_changed', req.device_id, {
          device_id: req.device_id,
          status: req.status,
        }),
      );
      return toView(row, this.config.offlineAfterMs);
    });
  }

  /** Deletes a device: its agent tears its tunnels down, and its peers lose it. */
  async delete(id: string): Promise<void> {
    await this.changes.run(async (tx, touch) => {
      const row = await this.repo.delete(tx, id);
      const related = await this.relatedTo(tx, row);
      await this.tunnels.forgetDecision(tx, id);
      const hosts = await this.tunnels.keyedDevices(tx, related);
      await touch.hosts(
        [...(row.public_key ? [id] : []), ...hosts].map((host_id) => ({
          host_id,
          driver: TUNNEL_DRIVER,
        })),
      );
      return {
        result: undefined,
        events: [deviceEvent('deleted', id, { device_id: id, type: row.type })],
      };
    });
  }

  /** The stored PSK of a device, for verifying its signatures; undefined for an unknown device. */
  async pskOf(id: string): Promise<string | undefined> {
    const row = await this.repo.find(autocommit(this.ds), id);
    return row && this.secrets.open(row.psk_sealed);
  }

  /** Sends the device's config to its agent and answers the agent's acknowledgement. */
  async pushConfig(id: string): Promise<PushConfigResponse> {
    const device = await this.repo.get(id);
    const command: DeviceConfigCommand = { device_id: id, config: device.config };
    try {
      const ack = await requestAgent(this.nc, DeviceConfigCall, id, command, {
        timeoutMs: this.config.pushTimeoutMs,
      });
      await this.outbox.transaction(async (_tx, out) => {
        out.event(deviceEvent('config_pushed', id, ack));
      });
      return ack;
    } catch (err) {
      if (
        err instanceof QnetError &&
        (err.code === 'unavailable' || err.code === 'deadline_exceeded')
      )
        throw new QnetError(
          'deadline_exceeded',
          `the agent of device ${id} did not acknowledge the config within ${this.config.pushTimeoutMs} ms (is it running and connected?)`,
        );
      throw err;
    }
  }

  /**
   * Devices as nodes; endpoint → router edges from the balancer's decisions, each with what the
   * endpoint (else the router) last reported of that tunnel.
   */
  async topology(): Promise<TopologyView> {
    const tx = autocommit(this.ds);
    const [devices, decisions, reports] = await Promise.all([
      this.repo.all(),
      this.tunnels.allDecisions(tx),
      this.tunnels.reports(tx),
    ]);
    const known = new Set(devices.map((d) => d.device_id));
    // What an agent has not said again lately is not shown as live.
    const fresh = reports.filter((r) => Date.now() - r.reported_at.getTime() <= REPORT_STALE_MS);
    const observed = new Map(fresh.map((r) => [r.device_id, r.observed]));
    const now = Date.now() / 1000;
    return {
      nodes: devices.map((d) => {
        const v = toView(d, this.config.offlineAfterMs);
        return { device_id: v.device_id, type: v.type, name: v.name, status: v.status };
      }),
      edges: decisions.flatMap((d) =>
        (
          [
            [d.primary_router_id, 'primary'],
            [d.backup_router_id, 'backup'],
          ] as const
        )
          .filter(([router]) => router && known.has(d.endpoint_id))
          .map(([router, role]) => ({
            from_device_id: d.endpoint_id,
            to_device_id: router!,
            role,
            ...liveEdge(
              observed.get(d.endpoint_id),
              observed.get(router!),
              d.endpoint_id,
              router!,
              now,
            ),
          })),
      ),
    };
  }

  /** The devices a device has tunnels with: an endpoint's routers, a router's endpoints. */
  private async relatedTo(tx: SqlTx, d: Pick<DeviceRow, 'device_id' | 'type'>): Promise<string[]> {
    if (d.type === 'routing_server') return this.tunnels.endpointsOf(tx, [d.device_id]);
    const [decision] = await this.tunnels.decisions(tx, [d.device_id], { lock: false });
    return [decision?.primary_router_id, decision?.backup_router_id].filter(
      (id): id is string => typeof id === 'string',
    );
  }

  /** The device's tunnel state, and with `related` that of the devices it has tunnels with. */
  private async touchTunnels(
    tx: SqlTx,
    touch: Touch,
    d: DeviceRow,
    related: boolean,
  ): Promise<void> {
    const ids = [d.device_id, ...(related ? await this.relatedTo(tx, d) : [])];
    const hosts = await this.tunnels.keyedDevices(tx, ids);
    await touch.hosts(hosts.map((host_id) => ({ host_id, driver: TUNNEL_DRIVER })));
  }

  private describe(p: AddressPool): string {
    return `${addressOf(p, p.start)}–${addressOf(p, p.end)}`;
  }
}

/** An agent's tunnel report older than this is stale (agents report every 5 s by default). */
const REPORT_STALE_MS = 30_000;

/** A device as the API shows it; one not seen within the window is offline whatever it last said. */
export function toView(r: DeviceRow, offlineAfterMs: number): DeviceView {
  const silent = Date.now() - r.last_seen_at.getTime() > offlineAfterMs;
  return {
    device_id: r.device_id,
    type: r.type,
    name: r.name,
    addresses: r.addresses,
    tun_ipv4: r.tun_ipv4,
    tun_ipv6: r.tun_ipv6,
    public_key: r.public_key ?? '',
    status: silent ? 'offline' : r.status,
    config: r.config,
    last_seen: r.last_seen_at.toISOString(),
    registered_at: r.registered_at.toISOString(),
  };
}

const deviceEvent = (event: string, id: string, data: unknown) => ({
  resource: 'device',
  event,
  id,
  data,
});
