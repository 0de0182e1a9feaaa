import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  QnetError,
  type AttachNicRequest,
  type UpdateNicRequest,
  type Capability,
  type ListNicsRequest,
  type NicKind,
  type NicView,
  type Page,
} from '@qnet/contracts';
import { isUnicastMac, normalizeMac, randomLocalMac } from '@qnet/netaddr';
import { explainViolation, ownerProject, type SqlTx, violatedConstraint } from '@qnet/persistence';
import { DesiredStateChanges, type DomainEvent } from '@qnet/service';
import { linuxOf, linuxOn } from '../desired/linux-renderer.js';
import { AddressAllocator } from '../networks/address-allocator.js';
import { NetworkRepository, type NetworkRow } from '../networks/network.repository.js';
import {
  assertCapable,
  assertUplink,
  hostNotRegistered,
  requiredCapability,
} from '../networks/placement.js';
import { HostRepository } from '../hosts/host.repository.js';
import { NicRepository } from './nic.repository.js';

/** Values the registry generated itself: a collision on them is retried, not reported. */
const GENERATED_CONFLICTS = new Set(['nics_guest_mac_key', 'nics_host_dev_name_key']);

@Injectable()
export class NicService {
  constructor(
    private readonly core: DesiredStateChanges,
    private readonly repo: NicRepository,
    private readonly networks: NetworkRepository,
    private readonly hosts: HostRepository,
    private readonly addresses: AddressAllocator,
  ) {}

  get(id: string): Promise<NicView> {
    return this.repo.get(id);
  }

  /** Listing a network's NICs needs the network: another project's, or none, is a 404. */
  async list(req: ListNicsRequest): Promise<Page<NicView>> {
    if (req.network_id) await this.networks.get(req.network_id);
    return this.repo.list(req);
  }

  async attach(req: AttachNicRequest): Promise<NicView> {
    if (!req.network_id && !req.bridge_name)
      throw QnetError.invalid(
        'network_id',
        'give a network_id, or a bridge_name to find or register one',
      );
    const kind: NicKind = req.kind ?? (req.netns ? 'veth' : 'tap');
    if (kind === 'veth' && !req.netns)
      throw QnetError.invalid(
        'netns',
        'is required for a veth NIC (the namespace its peer moves into)',
      );
    if (kind === 'tap' && req.netns)
      throw QnetError.invalid('netns', 'only veth NICs have a namespace');
    if (req.guest_mac && !isUnicastMac(req.guest_mac))
      throw QnetError.invalid('guest_mac', 'must be a unicast MAC (first octet even)');
    const capabilities = (await this.hosts.capabilities([req.host_id])).get(req.host_id);
    if (!capabilities) throw hostNotRegistered(req.host_id, 'host_id');

    for (let attempt = 1; ; attempt++) {
      const id = randomUUID();
      try {
        return await this.core.run(async (tx, touch) => {
          const found = await this.resolveNetwork(tx, req);
          const network = await this.networks.lock(tx, found.id);
          this.checkPlacement(network, req.host_id, capabilities);
          // A bridged network without a host is built on each host that has a NIC on it.
          if (network.uplink_interface)
            assertUplink(
              req.host_id,
              await this.hosts.interfaces(req.host_id, tx),
              network.uplink_interface,
              'host_id',
            );
          // Port security is filtered in nftables' bridge family.
          if (req.port_security ?? true)
            assertCapable(req.host_id, capabilities, 'nft_bridge', 'port_security');
          const generationOf = await touch.hosts(
            linuxOn([req.host_id, ...(await this.overlayMembers(tx, network))]),
          );
          const ip = network.cidr
            ? await this.addresses.allocate(
                tx,
                network,
                req.ip_address,
                { kind: 'nic', id },
                'ip_address',
              )
            : null;
          if (!network.cidr && req.ip_address)
            throw QnetError.invalid(
              'ip_address',
              `network ${network.id} has no cidr to allocate from`,
            );
          const mac = req.guest_mac ? normalizeMac(req.guest_mac) : randomLocalMac();
          await this.repo.insert(tx, id, {
            network_id: network.id,
            vm_id: req.vm_id,
            iface_id: req.iface_id ?? 'eth0',
            kind,
            host_id: req.host_id,
            guest_mac: mac,
            ip_address: ip,
            host_dev_name: req.host_dev_name ?? `${kind}-${id.slice(0, 8)}`,
            netns: req.netns ?? null,
            hostname: req.hostname ?? null,
            port_security: req.port_security ?? true,
            allowed_address_pairs: (req.allowed_address_pairs ?? []).map((p) => ({
              ip_address: p.ip_address,
              mac_address: p.mac_address ? normalizeMac(p.mac_address) : mac,
            })),
            generation: generationOf(linuxOf(req.host_id)),
          });
          await this.networks.addHosts(tx, network.id, [req.host_id], false);
          const events: DomainEvent[] = [];
          if (found.created) {
            const view = await this.networks.get(network.id, tx);
            events.push({
              resource: 'network',
              event: 'created',
              id: view.id,
              data: { ...view, auto_registered: true },
            });
          }
          const nic = await this.repo.get(id, tx);
          events.push({ resource: 'nic', event: 'created', id: nic.id, data: nic });
          return { result: nic, events };
        });
      } catch (err) {
        const constraint = violatedConstraint(err);
        if (constraint && GENERATED_CONFLICTS.has(constraint) && attempt < 3) {
          const given = constraint === 'nics_guest_mac_key' ? req.guest_mac : req.host_dev_name;
          if (!given) continue;
        }
        explainViolation(err, {
          nics_guest_mac_key: { field: 'guest_mac', message: 'is used by another NIC' },
          nics_host_dev_name_key: { field: 'host_dev_name', message: 'is used on this host' },
          nics_vm_iface_key: {
            field: 'iface_id',
            message: 'this VM already has a NIC with this iface_id',
          },
          ip_allocations_pkey: { field: 'ip_address', message: 'is already in use' },
        });
      }
    }
  }

  async update(req: UpdateNicRequest): Promise<NicView> {
    return this.core.run(async (tx, touch) => {
      const cur = await this.repo.get(req.id, tx);
      const network = await this.networks.lock(tx, cur.network_id);
      if (req.port_security) {
        const caps = (await this.hosts.capabilities([cur.host_id], tx)).get(cur.host_id) ?? [];
        assertCapable(cur.host_id, caps, 'nft_bridge', 'port_security');
      }
      const generationOf = await touch.hosts(
        linuxOn([cur.host_id, ...(await this.overlayMembers(tx, network))]),
      );
      await this.repo.update(tx, cur.id, {
        ...(req.hostname !== undefined ? { hostname: req.hostname || null } : {}),
        ...(req.port_security !== undefined ? { port_security: req.port_security } : {}),
        ...(req.allowed_address_pairs
          ? {
              allowed_address_pairs: req.allowed_address_pairs.map((p) => ({
                ip_address: p.ip_address,
                mac_address: p.mac_address ? normalizeMac(p.mac_address) : cur.guest_mac,
              })),
            }
          : {}),
        generation: generationOf(linuxOf(cur.host_id)),
      });
      const nic = await this.repo.get(cur.id, tx);
      return {
        result: nic,
        events: [{ resource: 'nic', event: 'updated', id: nic.id, data: nic }],
      };
    });
  }

  async detach(id: string): Promise<void> {
    await this.core.run(async (tx, touch) => {
      const nic = await this.repo.get(id, tx);
      const network = await this.networks.lock(tx, nic.network_id);
      await touch.hosts(linuxOn([nic.host_id, ...(await this.overlayMembers(tx, network))]));
      if (!(await this.repo.delete(tx, id))) throw QnetError.notFound('nic', id);
      return { result: undefined, events: [{ resource: 'nic', event: 'deleted', id, data: nic }] };
    });
  }

  /** Detaches the NIC whose host device is `dev` on `hostId` (seed 003's agent API). */
  async detachDevice(hostId: string, dev: string): Promise<void> {
    const id = await this.repo.idOfDevice(hostId, dev);
    if (!id)
      throw new QnetError('not_found', `no NIC has device ${dev} on host ${hostId}`, [
        { field: 'host_dev_name', message: `no NIC has this device on host ${hostId}` },
      ]);
    await this.detach(id);
  }

  /** A local network changes only the NIC's host; an overlay changes every member's forwarding. */
  private async overlayMembers(tx: SqlTx, network: NetworkRow): Promise<string[]> {
    return network.type === 'overlay' ? this.networks.hostIds(tx, network.id) : [];
  }

  private async resolveNetwork(tx: SqlTx, req: AttachNicRequest) {
    if (req.network_id) return { id: req.network_id, created: false };
    const { network, created } = await this.networks.findOrRegister(
      tx,
      req.host_id,
      req.bridge_name!,
      req.vlan_id ?? null,
      ownerProject(undefined),
    );
    return { id: network.id, created };
  }

  private checkPlacement(network: NetworkRow, hostId: string, capabilities: Capability[]) {
    if (network.host_id && network.host_id !== hostId)
      throw new QnetError(
        'failed_precondition',
        `network ${network.id} is local to host ${network.host_id}, not ${hostId}`,
        [{ field: 'host_id', message: `network is local to host ${network.host_id}` }],
      );
    assertCapable(
      hostId,
      capabilities,
      requiredCapability(network.type, network.vlan_id),
      'host_id',
    );
  }
}
