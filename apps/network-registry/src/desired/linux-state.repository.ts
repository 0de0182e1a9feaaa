import { anyOf, asText, hostText, type SqlTx } from '@qnet/persistence';
import { sql } from 'kysely';
import type { StaticRoute } from '@qnet/contracts';
import { db } from '../db/index.js';
import type { AddressPair } from '../dns.js';
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
    return tx.run(
      db
        .selectFrom('hosts')
        .select(['id', hostText('underlay_ip').as('underlay_ip')])
        .where('id', '=', anyOf(ids)),
    );
  },

  networksOn(
    tx: SqlTx,
    hostIds: readonly string[],
  ): Promise<(RenderNetwork & { host_id_of: string })[]> {
    return tx.run(
      db
        .selectFrom('network_hosts as nh')
        .innerJoin('networks as n', 'n.id', 'nh.network_id')
        .select([
          'nh.host_id as host_id_of',
          'n.id',
          'n.name',
          'n.type',
          'n.mode',
          'n.dhcp',
          sql<string[]>`array(SELECT host(a) FROM unnest(n.dns_servers) a)`.as('dns_servers'),
          sql<StaticRoute[]>`n.static_routes`.as('static_routes'),
          'n.uplink_interface',
          'n.vni',
          'n.vlan_id',
          'n.bridge_name',
          'n.mtu',
          asText<string | null>('n.cidr').as('cidr'),
          sql<number | null>`masklen(n.cidr)`.as('prefix'),
          hostText<string | null>('n.gateway').as('gateway'),
        ])
        .where('nh.host_id', '=', anyOf(hostIds)),
    );
  },

  async members(tx: SqlTx, overlayIds: readonly string[]): Promise<OverlayMember[]> {
    if (!overlayIds.length) return [];
    return tx.run(
      db
        .selectFrom('network_hosts as nh')
        .innerJoin('hosts as h', 'h.id', 'nh.host_id')
        .select(['nh.network_id', 'nh.host_id', hostText('h.underlay_ip').as('underlay_ip')])
        .where('nh.network_id', '=', anyOf(overlayIds)),
    );
  },

  /** NICs on the hosts, and every NIC of the overlays (remote forwarding entries). */
  nics(tx: SqlTx, hostIds: readonly string[], overlayIds: readonly string[]): Promise<RenderNic[]> {
    return tx.run(
      db
        .selectFrom('nics as c')
        .select((eb) => [
          'c.network_id',
          'c.host_id',
          'c.kind',
          asText('c.guest_mac').as('mac'),
          hostText<string | null>('c.ip_address').as('ip'),
          'c.host_dev_name',
          'c.iface_id',
          'c.netns',
          'c.vm_id',
          'c.hostname',
          'c.port_security',
          sql<AddressPair[]>`c.allowed_address_pairs`.as('allowed_address_pairs'),
          eb
            .exists(
              eb
                .selectFrom('ip_releases as r')
                .select(sql.lit(1).as('one'))
                .whereRef('r.network_id', '=', 'c.network_id')
                .whereRef('r.address', '=', 'c.ip_address')
                .where(
                  sql<boolean>`r.released_at BETWEEN c.created_at - ${REUSE_ANNOUNCED_FOR}::interval AND c.created_at`,
                ),
            )
            .$castTo<boolean>() // PostgreSQL's EXISTS is a boolean (SqlBool also allows MySQL's 0/1)
            .as('reused'),
        ])
        .where((eb) =>
          eb.or([eb('c.host_id', '=', anyOf(hostIds)), eb('c.network_id', '=', anyOf(overlayIds))]),
        ),
    );
  },
};
