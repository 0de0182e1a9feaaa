import { Injectable } from '@nestjs/common';
import {
  BRIDGE_MTU,
  OVERLAY_MTU,
  QnetError,
  type Capability,
  type CreateNetworkRequest,
  type ListNetworksRequest,
  type NetworkMode,
  type NetworkType,
  type NetworkView,
  type Page,
  type UpdateNetworkRequest,
} from '@qnet/contracts';
import { parseCidr, type Cidr } from '@qnet/netaddr';
import {
  callerScope,
  explainViolation,
  ownerProject,
  type SqlTx,
  violatedConstraint,
} from '@qnet/persistence';
import { DesiredStateChanges } from '@qnet/service';
import { linuxOn } from '../desired/linux-renderer.js';
import {
  canonicalRanges,
  canonicalRoutes,
  checkGateway,
  checkGuestServices,
  checkMode,
  parseReservedRanges,
} from './ipam.js';
import { HostRepository } from '../hosts/host.repository.js';
import { NetworkRepository, servesGuests, type NetworkRow } from './network.repository.js';
import { assertCapable, assertUplink, hostNotRegistered, requiredCapability } from './placement.js';

const NETWORK_CONSTRAINTS = {
  networks_placement_key: {
    field: 'bridge_name',
    message: 'a network with this host, bridge and VLAN already exists',
  },
  networks_vni_key: { field: 'vni', message: 'is used by another overlay' },
  network_hosts_pkey: { field: 'host_ids', message: 'lists a host twice' },
};

@Injectable()
export class NetworkService {
  constructor(
    private readonly core: DesiredStateChanges,
    private readonly repo: NetworkRepository,
    private readonly hosts: HostRepository,
  ) {}

  get(id: string): Promise<NetworkView> {
    return this.repo.get(id);
  }

  list(req: ListNetworksRequest): Promise<Page<NetworkView>> {
    return this.repo.list(req);
  }

  countVms(id: string): Promise<number> {
    return this.repo.countVms(id);
  }

  async create(req: CreateNetworkRequest): Promise<NetworkView> {
    const type: NetworkType =
      req.network_type ??
      (req.vni !== undefined || req.host_ids?.length
        ? 'overlay'
        : req.vlan_id !== undefined
          ? 'vlan'
          : 'bridge');
    if (type === 'overlay') {
      if (req.host_id) throw QnetError.invalid('host_id', 'an overlay spans hosts: use host_ids');
      if (req.vlan_id !== undefined)
        throw QnetError.invalid('vlan_id', 'an overlay is isolated by its vni, not a VLAN');
    } else {
      if (!req.bridge_name)
        throw QnetError.invalid('bridge_name', `is required for ${type} networks`);
      if (req.vni !== undefined) throw QnetError.invalid('vni', 'only overlays have a vni');
      if (req.host_ids?.length)
        throw QnetError.invalid('host_ids', 'only overlays have member hosts; use host_id');
      if (type === 'vlan' && req.vlan_id === undefined)
        throw QnetError.invalid('vlan_id', 'is required for vlan networks');
    }
    const cidr = parseOptionalCidr(req.cidr);
    checkGateway(cidr, req.gateway);
    const mode = req.mode ?? 'isolated';
    checkMode(type, mode, cidr, req.gateway, req.uplink_interface);
    // A provider network, as Neutron's: it enslaves a host's physical interface and puts guests on
    // that LAN, so a project could cut a host off its uplink or reach the infrastructure's LAN.
    if (mode === 'bridged' && callerScope() !== null)
      throw new QnetError(
        'permission_denied',
        'a bridged network puts guests on a host LAN: only the admin creates one (and may give it to a project with project_id)',
        [{ field: 'mode', message: "bridged is the admin token's" }],
      );
    checkGuestServices(mode, cidr, req);
    const reserved = req.reserved_ranges ?? [];
    parseReservedRanges(reserved, cidr);
    const vlanId = req.vlan_id ?? null;
    const hostIds = type === 'overlay' ? (req.host_ids ?? []) : req.host_id ? [req.host_id] : [];
    await this.checkHosts(hostIds, requiredCapability(type, vlanId), type === 'overlay');
    await this.checkServable(type, mode, req.dhcp ?? true, hostIds);
    if (req.uplink_interface && req.host_id)
      assertUplink(
        req.host_id,
        await this.hosts.interfaces(req.host_id),
        req.uplink_interface,
        'uplink_interface',
      );
    const projectId = ownerProject(req.project_id);

    return this.retryAutoVni(req.vni === undefined, () =>
      this.core
        .run(async (tx, touch) => {
          await touch.hosts(linuxOn(hostIds));
          const row = await this.repo.insert(tx, {
            name: req.name,
            description: req.description ?? '',
            type,
            mode,
            uplink_interface: req.uplink_interface ?? null,
            dhcp: req.dhcp ?? true,
            dns_servers: req.dns_servers ?? [],
            static_routes: canonicalRoutes(req.static_routes ?? []),
            vlan_id: vlanId,
            vni: req.vni ?? null,
            bridge_name: req.bridge_name ?? null,
            host_id: req.host_id ?? null,
            cidr: cidr?.text ?? null,
            gateway: req.gateway ?? null,
            reserved_ranges: canonicalRanges(reserved),
            mtu: req.mtu ?? (type === 'overlay' ? OVERLAY_MTU : BRIDGE_MTU),
            project_id: projectId,
            labels: req.labels ?? {},
          });
          await this.repo.addHosts(tx, row.id, hostIds, true);
          if (row.gateway) await allocateGateway(this.repo, tx, row.id, row.gateway);
          const view = await this.repo.get(row.id, tx);
          return { result: view, events: [networkEvent('created', view)] };
        })
        .catch((err: unknown) => this.explain(err, projectId, cidr)),
    );
  }

  update(req: UpdateNetworkRequest): Promise<NetworkView> {
    return this.core.run(async (tx, touch) => {
      const cur = await this.repo.lock(tx, req.id);
      const hostsBefore = await this.repo.hostIds(tx, cur.id);
      await touch.hosts(linuxOn([...hostsBefore, ...(req.host_ids ?? [])]));
      const cidrText = req.cidr ?? cur.cidr ?? undefined;
      const cidr = parseOptionalCidr(cidrText);
      const gateway = req.gateway ?? cur.gateway ?? undefined;
      checkGateway(cidr, gateway);
      const mode = req.mode ?? cur.mode;
      // The uplink is named at creation: a network becomes or stops being bridged only by being
      // recreated, so the agent never has to tell which of a bridge's ports it once enslaved.
      if ((mode === 'bridged') !== (cur.mode === 'bridged'))
        throw QnetError.invalid(
          'mode',
          `a network is bridged from its creation (with uplink_interface) or never; this one is ${cur.mode}`,
        );
      checkMode(cur.type, mode, cidr, gateway, cur.uplink_interface ?? undefined);
      checkGuestServices(mode, cidr, {
        dhcp: req.dhcp,
        dns_servers: req.dns_servers,
        static_routes: req.static_routes ?? cur.static_routes,
      });
      const dhcp = req.dhcp ?? cur.dhcp;
      const joining = (req.host_ids ?? []).filter((h) => !hostsBefore.includes(h));
      const servedBy =
        mode !== cur.mode || dhcp !== cur.dhcp ? [...hostsBefore, ...joining] : joining;
      await this.checkServable(cur.type, mode, dhcp, servedBy, tx);
      const reserved = req.reserved_ranges ?? cur.reserved_ranges;
      parseReservedRanges(reserved, cidr);
      if (req.host_ids && cur.type !== 'overlay')
        throw QnetError.invalid('host_ids', 'only overlays have member hosts');
      if (cidr && req.cidr) await assertAllocationsInside(this.repo, tx, cur.id, cidr);
      await this.repo
        .update(tx, cur.id, {
          name: req.name,
          description: req.description,
          mode,
          dhcp: req.dhcp,
          dns_servers: req.dns_servers,
          static_routes: req.static_routes && canonicalRoutes(req.static_routes),
          cidr: cidr?.text ?? null,
          gateway: gateway ?? null,
          mtu: req.mtu,
          labels: req.labels,
          reserved_ranges: canonicalRanges(reserved),
        })
        .catch((err: unknown) => this.explain(err, cur.project_id, cidr, cur.id));
      if (gateway !== (cur.gateway ?? undefined)) {
        await this.repo.releaseGateway(tx, cur.id);
        if (gateway) await allocateGateway(this.repo, tx, cur.id, gateway);
      }
      if (req.host_ids) await this.replaceMembers(tx, cur, req.host_ids);
      const view = await this.repo.get(req.id, tx);
      return { result: view, events: [networkEvent('updated', view)] };
    });
  }

  async delete(id: string): Promise<void> {
    await this.core.run(async (tx, touch) => {
      await this.repo.lock(tx, id);
      const view = await this.repo.get(id, tx);
      const count = await this.repo.nicCount(tx, id);
      if (count > 0)
        throw new QnetError(
          'aborted',
          `network ${id} has ${count} attached NIC(s): detach them before deleting it`,
        );
      const held = await this.repo.firstReservation(tx, id);
      if (held)
        throw new QnetError(
          'aborted',
          `network ${id} holds reserved address ${held.address} (for ${held.owner_id}, e.g. a load balancer's VIP): delete its holder first`,
        );
      await touch.hosts(linuxOn(await this.repo.hostIds(tx, id)));
      await this.repo.delete(tx, id);
      return { result: undefined, events: [networkEvent('deleted', view)] };
    });
  }

  /** Hosts named for a network must be able to carry it; overlays also need them registered (underlay address). */
  private async checkHosts(
    hostIds: string[],
    needed: Capability | undefined,
    mustExist: boolean,
    tx?: SqlTx,
  ) {
    if (!hostIds.length) return;
    const known = await this.hosts.capabilities(hostIds, tx);
    for (const id of hostIds) {
      const caps = known.get(id);
      if (!caps && mustExist) throw hostNotRegistered(id, 'host_ids');
      if (caps) assertCapable(id, caps, needed, mustExist ? 'host_ids' : 'host_id');
    }
  }

  /**
   * What the hosts need to serve the network's mode: nftables to masquerade, dnsmasq for DHCP and
   * DNS, and nftables' bridge family to keep DHCP and a distributed gateway off the underlay.
   */
  private async checkServable(
    type: NetworkType,
    mode: NetworkMode,
    dhcp: boolean,
    hostIds: string[],
    tx?: SqlTx,
  ) {
    const guests = servesGuests({ mode, dhcp });
    if (mode === 'nat') await this.checkHosts(hostIds, 'nftables', false, tx);
    if (guests) await this.checkHosts(hostIds, 'dnsmasq', false, tx);
    if (type === 'overlay' && mode === 'nat')
      await this.checkHosts(hostIds, 'nft_bridge', false, tx);
  }

  private async replaceMembers(tx: SqlTx, cur: NetworkRow, hostIds: string[]) {
    await this.checkHosts(hostIds, 'vxlan', true, tx);
    const [leaving] = await this.repo.membersWithNicsBesides(tx, cur.id, hostIds);
    if (leaving) {
      const message = `host ${leaving} still has NICs on this network`;
      throw new QnetError('aborted', message, [{ field: 'host_ids', message }]);
    }
    await this.repo.removeMembersBesides(tx, cur.id, hostIds);
    await this.repo.addHosts(tx, cur.id, hostIds, true);
  }

  /** An automatically chosen VNI can lose a race to a concurrent create: choose again. */
  private async retryAutoVni<T>(auto: boolean, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const vniRace = err instanceof QnetError && err.details?.[0]?.field === 'vni';
        if (!auto || !vniRace || attempt >= 5) throw err;
      }
    }
  }

  /** Names the conflicting network of an overlap; other known constraints get their field. */
  private async explain(
    err: unknown,
    projectId: string,
    cidr?: Cidr,
    exceptId?: string,
  ): Promise<never> {
    if (violatedConstraint(err) === 'networks_cidr_overlap' && cidr) {
      const others = await this.repo.overlapping(projectId, cidr.text, exceptId);
      const names = others.map((o) => `${o.name} (${o.cidr}, ${o.id})`).join(', ');
      const message = `${cidr.text} overlaps ${names || 'another network'} in project ${projectId}`;
      throw new QnetError('already_exists', `cidr: ${message}`, [{ field: 'cidr', message }]);
    }
    return explainViolation(err, NETWORK_CONSTRAINTS);
  }
}

const networkEvent = (event: string, view: NetworkView) => ({
  resource: 'network',
  event,
  id: view.id,
  data: view,
});

function parseOptionalCidr(text: string | undefined): Cidr | undefined {
  return text === undefined ? undefined : parseCidr(text);
}

async function allocateGateway(
  repo: NetworkRepository,
  tx: SqlTx,
  networkId: string,
  gateway: string,
) {
  await repo.allocateGateway(tx, networkId, gateway).catch((err: unknown) =>
    explainViolation(err, {
      ip_allocations_pkey: { field: 'gateway', message: `${gateway} is in use by a NIC` },
    }),
  );
}

/** A CIDR change must keep every allocated address inside the network. */
async function assertAllocationsInside(
  repo: NetworkRepository,
  tx: SqlTx,
  networkId: string,
  cidr: Cidr,
) {
  const { outside, example } = await repo.allocationsOutside(tx, networkId, cidr.text);
  if (outside > 0)
    throw new QnetError(
      'aborted',
      `cidr: ${outside} allocated address(es) such as ${example} lie outside ${cidr.text}`,
      [{ field: 'cidr', message: `allocated addresses lie outside ${cidr.text}` }],
    );
}
