import { Inject, Injectable } from '@nestjs/common';
import {
  TUNNEL_DEFAULTS,
  type DeviceConfigDocument,
  type TunnelEndpointRouter,
  type TunnelSpec,
} from '@qnet/contracts';
import type { SqlTx } from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import type { DriverRenderer } from '@qnet/service';
import type { DeviceConfig } from '../config.js';
import { coveringPrefix, poolsOf, secondTunnelName } from '../devices/pools.js';
import { DEVICE_CONFIG, SECRET_BOX } from '../devices/tokens.js';
import { TunnelRepository, type PeerRow } from './tunnel.repository.js';

/** A device's tunnel settings, the seed's defaults where it names none. */
export function tunnelSettings(config: DeviceConfigDocument) {
  return { ...TUNNEL_DEFAULTS, routes: [] as string[], ...config.tunnel };
}

/**
 * How long an endpoint's report of a tunnel keeps it on a router the decision no longer names
 * (agents report at least every DRIVER_STATUS_INTERVAL_MS, 5 s by default).
 */
const DRAINING_REPORTS_MS = 60_000;

const udpEndpoint = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/**
 * Renders hosts' `tunnel` state from the devices and the balancer's decisions: a routing server
 * gets a peer for each endpoint whose decision names it; an endpoint gets its primary and backup
 * router. Only devices whose agent registered a key take part. PSKs are unsealed only here.
 */
@Injectable()
export class TunnelRenderer implements DriverRenderer<TunnelSpec> {
  private readonly prefixes;

  constructor(
    @Inject(DEVICE_CONFIG) config: DeviceConfig,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: TunnelRepository,
  ) {
    const pools = poolsOf(config);
    this.prefixes = { v4: coveringPrefix(pools.v4), v6: coveringPrefix(pools.v6) };
  }

  async render(tx: SqlTx, hostIds: readonly string[]): Promise<TunnelSpec[]> {
    const devices = new Map((await this.repo.devices(tx, hostIds)).map((d) => [d.device_id, d]));
    const keyed = hostIds.filter((id) => devices.get(id)?.public_key);
    const of = (type: string) => keyed.filter((id) => devices.get(id)!.type === type);
    const decisions = new Map(
      (await this.repo.decisions(tx, of('endpoint'), { lock: false })).map((d) => [
        d.endpoint_id,
        d,
      ]),
    );
    const named = [...decisions.values()].flatMap((d) =>
      [d.primary_router_id, d.backup_router_id].filter((id): id is string => id !== null),
    );
    const routers = new Map((await this.repo.devices(tx, named)).map((d) => [d.device_id, d]));
    const peers = new Map<string, PeerRow[]>();
    for (const p of await this.repo.peersOf(tx, of('routing_server'), DRAINING_REPORTS_MS))
      peers.set(p.router_id, [...(peers.get(p.router_id) ?? []), p]);

    return hostIds.map((id): TunnelSpec => {
      const d = devices.get(id);
      if (!d?.public_key) return {};
      const t = tunnelSettings(d.config);
      if (d.type === 'routing_server')
        return {
          router: {
            interface_name: t.interface_name,
            listen_port: t.port,
            mtu: t.mtu,
            ipv4: `${d.tun_ipv4}/${this.prefixes.v4}`,
            ipv6: `${d.tun_ipv6}/${this.prefixes.v6}`,
            peers: (peers.get(id) ?? []).map((p) => ({
              endpoint_id: p.endpoint_id,
              public_key: p.public_key,
              preshared_key: this.secrets.open(p.psk_sealed),
              ipv4: p.tun_ipv4,
              ipv6: p.tun_ipv6,
            })),
          },
        };
      const decision = decisions.get(id);
      const chosen = [decision?.primary_router_id, decision?.backup_router_id].flatMap((rid) => {
        const r = rid ? routers.get(rid) : undefined;
        return r?.public_key && r.type === 'routing_server' && r.addresses[0] ? [r] : [];
      });
      return {
        endpoint: {
          interface_names: [t.interface_name, secondTunnelName(t.interface_name)],
          mtu: t.mtu,
          keepalive_s: t.keepalive_interval,
          ipv4: d.tun_ipv4,
          ipv6: d.tun_ipv6,
          routes: t.routes,
          probe_interval_ms: t.probe_interval_ms,
          probe_misses: t.probe_misses,
          preshared_key: this.secrets.open(d.psk_sealed),
          routers: chosen.map((r, i): TunnelEndpointRouter => ({
            router_id: r.device_id,
            role: i === 0 ? 'primary' : 'backup',
            public_key: r.public_key!,
            endpoint: udpEndpoint(r.addresses[0]!, tunnelSettings(r.config).port),
            ipv4: r.tun_ipv4,
            ipv6: r.tun_ipv6,
          })),
        },
      };
    });
  }
}
