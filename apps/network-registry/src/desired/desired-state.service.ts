import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION, pushDesiredState } from '@qnet/bus';
import { type DesiredState, type DriverStatusReport, type LinuxSpec } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, inTransaction, sqlRows, type SqlTx } from '@qnet/persistence';
import { renderLinuxSpec, type RenderNetwork, type RenderNic } from './linux-render.js';

const DRIVER = 'linux';
/**
 * An address released this shortly before its new NIC was created is announced by the agents
 * (gratuitous ARP): longer than guests keep an unused ARP entry (Linux: tens of seconds; some
 * systems: minutes). Fresh addresses, the usual case with least-recently-freed IPAM, cost nothing.
 */
const REUSE_ANNOUNCED_FOR = '15 minutes';

interface HostRow {
  id: string;
  underlay_ip: string;
  linux_generation: string;
}

/**
 * Turns registry intent into each host's `linux` desired state (DESIGN §4). After a change the
 * affected hosts — only those of the changed network — get a new generation and their full state
 * pushed on qnet.agent.<host>.cmd.linux; agents also pull it on start, reconnect and resync.
 */
@Injectable()
export class DesiredStateService {
  private readonly logger = new Logger(DesiredStateService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  /**
   * Bumps the hosts' generation and renders their state in one transaction: the row locks order
   * concurrent pushes per host, and each render reads everything committed before its generation.
   * Never fails its caller: the change is committed, and agents converge on their next pull anyway.
   */
  async push(hostIds: string[]): Promise<void> {
    const ids = [...new Set(hostIds)];
    if (!ids.length) return;
    try {
      const states = await inTransaction(this.ds, async (tx) => {
        const hosts: HostRow[] = await tx.rows(
          // Locks in id order, so concurrent pushes to overlapping host sets cannot deadlock.
          `UPDATE hosts SET linux_generation = linux_generation + 1
           FROM (SELECT id FROM hosts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE) l
           WHERE hosts.id = l.id
           RETURNING hosts.id, host(hosts.underlay_ip) AS underlay_ip, hosts.linux_generation`,
          [ids],
        );
        await tx.rows(
          `UPDATE nics SET generation = h.linux_generation FROM hosts h
           WHERE nics.host_id = h.id AND h.id = ANY($1::text[]) AND nics.generation = 0`,
          [ids],
        );
        return this.render(tx, hosts);
      });
      for (const state of states)
        pushDesiredState(this.nc, state.hostId, state.desired, (m) => this.logger.warn(m));
    } catch (err) {
      this.logger.warn(`pushing desired state failed (agents catch up on resync): ${String(err)}`);
    }
  }

  /** The current desired state of one host (agent pull); unknown hosts get an empty state. */
  async current(hostId: string): Promise<DesiredState<LinuxSpec>> {
    const hosts: HostRow[] = await sqlRows(
      this.ds,
      `SELECT id, host(underlay_ip) AS underlay_ip, linux_generation FROM hosts WHERE id = $1`,
      [hostId],
    );
    if (!hosts[0])
      return {
        driver: DRIVER,
        generation: 0,
        spec: { bridges: [], taps: [], veths: [], vxlans: [] },
      };
    const [state] = await this.render(autocommit(this.ds), hosts);
    return state!.desired;
  }

  async record(report: DriverStatusReport): Promise<void> {
    if (report.ok)
      await sqlRows(
        this.ds,
        `UPDATE hosts SET linux_applied = GREATEST(linux_applied, $2), linux_error = NULL WHERE id = $1`,
        [report.host_id, report.generation],
      );
    else
      await sqlRows(
        this.ds,
        `UPDATE hosts SET linux_error = $3 WHERE id = $1 AND $2 >= linux_applied`,
        [report.host_id, report.generation, report.error ?? 'failed'],
      );
  }

  private async render(
    tx: SqlTx,
    hosts: HostRow[],
  ): Promise<{ hostId: string; desired: DesiredState<LinuxSpec> }[]> {
    if (!hosts.length) return [];
    const ids = hosts.map((h) => h.id);
    const networks: (RenderNetwork & { host_id_of: string })[] = await tx.rows(
      `SELECT nh.host_id AS host_id_of, n.id, n.type, n.vni, n.vlan_id, n.bridge_name, n.mtu,
         masklen(n.cidr) AS prefix, host(n.gateway) AS gateway
       FROM network_hosts nh JOIN networks n ON n.id = nh.network_id WHERE nh.host_id = ANY($1::text[])`,
      [ids],
    );
    const overlayIds = [...new Set(networks.filter((n) => n.type === 'overlay').map((n) => n.id))];
    const members: { network_id: string; host_id: string; underlay_ip: string }[] =
      overlayIds.length
        ? await tx.rows(
            `SELECT nh.network_id, nh.host_id, host(h.underlay_ip) AS underlay_ip
             FROM network_hosts nh JOIN hosts h ON h.id = nh.host_id WHERE nh.network_id = ANY($1::uuid[])`,
            [overlayIds],
          )
        : [];
    const nics: RenderNic[] = await tx.rows(
      `SELECT network_id, host_id, kind, text(guest_mac) AS mac, host(ip_address) AS ip, host_dev_name,
         iface_id, netns,
         EXISTS (SELECT 1 FROM ip_releases r
                 WHERE r.network_id = c.network_id AND r.address = c.ip_address
                   AND r.released_at BETWEEN c.created_at - $3::interval AND c.created_at) AS reused
       FROM nics c WHERE host_id = ANY($1::text[]) OR network_id = ANY($2::uuid[])`,
      [ids, overlayIds, REUSE_ANNOUNCED_FOR],
    );
    const memberMap = new Map<string, Map<string, string>>();
    for (const m of members) {
      if (!memberMap.has(m.network_id)) memberMap.set(m.network_id, new Map());
      memberMap.get(m.network_id)!.set(m.host_id, m.underlay_ip);
    }
    return hosts.map((h) => ({
      hostId: h.id,
      desired: {
        driver: DRIVER,
        generation: Number(h.linux_generation),
        spec: renderLinuxSpec({
          hostId: h.id,
          underlayIp: h.underlay_ip,
          networks: networks.filter((n) => n.host_id_of === h.id),
          members: memberMap,
          nics,
        }),
      },
    }));
  }
}
