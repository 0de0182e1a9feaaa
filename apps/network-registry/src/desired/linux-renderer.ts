import { Inject, Injectable } from '@nestjs/common';
import type { LinuxSpec } from '@qnet/contracts';
import type { SqlTx } from '@qnet/persistence';
import type { DriverRenderer, HostDriver } from '@qnet/service';
import { DNS_DOMAIN } from '../dns.js';
import { renderLinuxSpec } from './linux-render.js';
import { linuxStateRepository as repo } from './linux-state.repository.js';

export const LINUX_DRIVER = 'linux';

/** A host's `linux` driver, as a change touches it. */
export const linuxOf = (host_id: string): HostDriver => ({ host_id, driver: LINUX_DRIVER });

export const linuxOn = (hostIds: readonly string[]): HostDriver[] => hostIds.map(linuxOf);

const EMPTY: LinuxSpec = { bridges: [], taps: [], veths: [], vxlans: [], routes: [] };

/**
 * Registry intent → each host's `linux` desired state: its networks' bridges, its NICs and, per
 * overlay, forwarding to every other member. Hosts are rendered together (one query per kind).
 */
@Injectable()
export class LinuxRenderer implements DriverRenderer<LinuxSpec> {
  constructor(@Inject(DNS_DOMAIN) private readonly dnsDomain: string) {}

  async render(tx: SqlTx, hostIds: readonly string[]): Promise<LinuxSpec[]> {
    const hosts = new Map((await repo.hosts(tx, hostIds)).map((h) => [h.id, h]));
    if (!hosts.size) return hostIds.map(() => EMPTY);
    const networks = await repo.networksOn(tx, hostIds);
    const overlayIds = [...new Set(networks.filter((n) => n.type === 'overlay').map((n) => n.id))];
    const members = new Map<string, Map<string, string>>();
    for (const m of await repo.members(tx, overlayIds)) {
      const of = members.get(m.network_id) ?? new Map<string, string>();
      members.set(m.network_id, of.set(m.host_id, m.underlay_ip));
    }
    const nics = await repo.nics(tx, hostIds, overlayIds);
    return hostIds.map((id) => {
      const host = hosts.get(id);
      if (!host) return EMPTY;
      return renderLinuxSpec({
        hostId: id,
        underlayIp: host.underlay_ip,
        networks: networks.filter((n) => n.host_id_of === id),
        members,
        nics,
        dnsDomain: this.dnsDomain,
      });
    });
  }
}
