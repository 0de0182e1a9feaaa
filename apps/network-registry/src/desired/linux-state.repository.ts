import type { SqlTx } from '@qnet/persistence';
import type { RenderNetwork, RenderNic } from './linux-render.js';

/**
 * An address released this shortly before its new NIC was created is announced by the agents
 * (gratuitous ARP): longer than guests keep an unused ARP entry (Linux: tens of seconds; some
 * systems: minutes). Fresh addresses, the usual case with least-recently-freed IPAM, cost nothing.
 */
const REUSE_ANNOUNCED_FOR = '15 minutes';

export interface RenderHost {
  id: string;
  underlay_ip: string;
}

export interface OverlayMember {
  network_id: string;
  host_id: string;
  underlay_ip: string;
}

/** What the `linux` renderer reads: hosts' networks, overlay members and every relevant NIC. */
export const linuxStateRepository = {
  hosts(tx: SqlTx, ids: readonly string[]): Promise<RenderHost[]> {
    return tx.rows<RenderHost>(
      `SELECT id, host(underlay_ip) AS underlay_ip FROM hosts WHERE id = ANY($1::text[])`,
      [ids],
    );
  },

  networksOn(
    tx: SqlTx,
    hostIds: readonly string[],
  ): Promise<(RenderNetwork & { host_id_of: string })[]> {
    return tx.rows(
      `SELECT nh.host_id AS host_id_of, n.id, n.type, n.vni, n.vlan_id, n.bridge_name, n.mtu,
         masklen(n.cidr) AS prefix, host(n.gateway) AS gateway
       FROM network_hosts nh JOIN networks n ON n.id = nh.network_id WHERE nh.host_id = ANY($1::text[])`,
      [hostIds],
    );
  },

  members(tx: SqlTx, overlayIds: readonly string[]): Promise<OverlayMember[]> {
    if (!overlayIds.length) return Promise.resolve([]);
    return tx.rows<OverlayMember>(
      `SELECT nh.network_id, nh.host_id, host(h.underlay_ip) AS underlay_ip
       FROM network_hosts nh JOIN hosts h ON h.id = nh.host_id WHERE nh.network_id = ANY($1::uuid[])`,
      [overlayIds],
    );
  },

  /** NICs on the hosts, and every NIC of the overlays (remote forwarding entries). */
  nics(tx: SqlTx, hostIds: readonly string[], overlayIds: readonly string[]): Promise<RenderNic[]> {
    return tx.rows<RenderNic>(
      `SELECT network_id, host_id, kind, text(guest_mac) AS mac, host(ip_address) AS ip, host_dev_name,
         iface_id, netns,
         EXISTS (SELECT 1 FROM ip_releases r
                 WHERE r.network_id = c.network_id AND r.address = c.ip_address
                   AND r.released_at BETWEEN c.created_at - $3::interval AND c.created_at) AS reused
       FROM nics c WHERE host_id = ANY($1::text[]) OR network_id = ANY($2::uuid[])`,
      [hostIds, overlayIds, REUSE_ANNOUNCED_FOR],
    );
  },
};
