import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  QnetError,
  type AddConnectionRequest,
  type ClientConfigView,
  type ConnectionRef,
  type ListConnectionsRequest,
  type ListConnectionsResponse,
  type PresharedKeyView,
  type RotateConnectionKeyRequest,
  type SetPresharedKeyRequest,
  type VpnConnectionView,
} from '@qnet/contracts';
import { cidrContainsIp, isNetworkOrBroadcast, parseCidr } from '@qnet/netaddr';
import { autocommit, DATA_SOURCE, explainViolation } from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import { SECRET_BOX } from '../tokens.js';
import { GatewayChanges } from './changes.js';
import { configFilename, qrSvg, renderClientConfig } from './client-config.js';
import { generateKeyPair, generatePresharedKey } from './keys.js';
import { connectionView } from './views.js';
import { VpnRepository, type ServiceRow } from './vpn.repository.js';

const CONNECTION_CONSTRAINTS = {
  vpn_connections_name: {
    field: 'name',
    message: 'a connection of this name exists on this VPN service',
  },
  vpn_connections_address: { field: 'peer_address', message: 'is taken by another connection' },
  vpn_connections_key: {
    field: 'peer_public_key',
    message: 'is already a peer of this VPN service',
  },
};

/** A client address: inside the pool, not its network, broadcast or gateway address (409 otherwise). */
function checkPeerAddress(given: string, service: ServiceRow): string {
  const address = given.split('/')[0]!;
  const pool = parseCidr(service.client_pool);
  const why = !cidrContainsIp(pool, address)
    ? `is outside the client pool ${pool.text}`
    : isNetworkOrBroadcast(pool, address)
      ? `is the network or broadcast address of ${pool.text}`
      : address === service.gateway_address.split('/')[0]
        ? "is the gateway's own address"
        : undefined;
  if (why)
    throw new QnetError('already_exists', `peer_address: ${given} ${why}`, [
      { field: 'peer_address', message: why },
    ]);
  return address;
}

/** Client connections of a VPN service: peers, their keys and their configs. */
@Injectable()
export class ConnectionService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: VpnRepository,
    private readonly changes: GatewayChanges,
  ) {}

  async add(req: AddConnectionRequest): Promise<VpnConnectionView> {
    const generated = req.peer_public_key ? undefined : generateKeyPair();
    const publicKey = req.peer_public_key ?? generated!.publicKey;
    const view = await this.changes.onService(req.vpn_service_id, async (tx, generation, s) => {
      const address = req.peer_address
        ? checkPeerAddress(req.peer_address, s)
        : await this.repo.lowestFreeAddress(tx, s.id);
      if (!address)
        throw new QnetError('aborted', `peer_address: no free address left in ${s.client_pool}`, [
          { field: 'peer_address', message: 'client pool exhausted' },
        ]);
      const id = await this.repo
        .insertConnection(tx, {
          vpn_service_id: s.id,
          name: req.name,
          peer_address: address,
          peer_public_key: publicKey,
          preshared_key_sealed: req.preshared_key ? this.secrets.seal(req.preshared_key) : null,
          generation,
        })
        .catch((err: unknown) => explainViolation(err, CONNECTION_CONSTRAINTS));
      return {
        result: connectionView(await this.repo.connection(tx, s.id, id)),
        audit: [
          {
            vpn_service_id: s.id,
            connection_id: id,
            action: 'connection.added',
            detail: `${req.name} at ${address} (${generated ? 'key pair generated' : 'client key'})`,
          },
        ],
      };
    });
    return generated ? { ...view, private_key: generated.privateKey } : view;
  }

  async list(req: ListConnectionsRequest): Promise<ListConnectionsResponse> {
    await this.repo.hostOf(req.vpn_service_id);
    const page = await this.repo.listConnections(req.vpn_service_id, req);
    return { connections: page.items.map(connectionView), next_page_token: page.next_page_token };
  }

  async remove(ref: ConnectionRef): Promise<void> {
    await this.changes.onService(ref.vpn_service_id, async (tx) => {
      const c = await this.repo.connection(tx, ref.vpn_service_id, ref.connection_id);
      await this.repo.deleteConnection(tx, c.id);
      return {
        result: undefined,
        audit: [
          {
            vpn_service_id: ref.vpn_service_id,
            connection_id: c.id,
            action: 'connection.removed',
            detail: `${c.name} at ${c.peer_address}`,
          },
        ],
      };
    });
  }

  async clientConfig(ref: ConnectionRef): Promise<ClientConfigView> {
    const tx = autocommit(this.ds);
    const s = await this.repo.service(tx, ref.vpn_service_id);
    const c = await this.repo.connection(tx, s.id, ref.connection_id);
    const config = renderClientConfig({
      name: c.name,
      peerAddress: c.peer_address,
      hasPresharedKey: c.preshared_key_sealed !== null,
      gatewayPublicKey: s.public_key,
      externalIp: s.external_ip,
      listenPort: s.listen_port,
      localSubnets: s.local_subnets,
    });
    return {
      connection_id: c.id,
      filename: configFilename(c.name),
      config,
      qr_svg: await qrSvg(config),
    };
  }

  /** A new client key (given, or generated and returned once); the old one stops working at once. */
  async rotateKey(req: RotateConnectionKeyRequest): Promise<VpnConnectionView> {
    const generated = req.peer_public_key ? undefined : generateKeyPair();
    const publicKey = req.peer_public_key ?? generated!.publicKey;
    const view = await this.update(req, { peer_public_key: publicKey }, 'connection.key_rotated');
    return generated ? { ...view, private_key: generated.privateKey } : view;
  }

  async setPresharedKey(req: SetPresharedKeyRequest): Promise<PresharedKeyView> {
    const psk = req.preshared_key ?? generatePresharedKey();
    const view = await this.update(
      req,
      { preshared_key_sealed: this.secrets.seal(psk) },
      'connection.preshared_key_set',
    );
    return req.preshared_key ? view : { ...view, preshared_key: psk };
  }

  private async update(
    ref: ConnectionRef,
    set: { peer_public_key?: string; preshared_key_sealed?: string },
    action: string,
  ): Promise<VpnConnectionView> {
    return this.changes.onService(ref.vpn_service_id, async (tx, generation) => {
      const c = await this.repo.connection(tx, ref.vpn_service_id, ref.connection_id);
      await this.repo
        .updateConnection(tx, c.id, set, generation)
        .catch((err: unknown) => explainViolation(err, CONNECTION_CONSTRAINTS));
      return {
        result: connectionView(await this.repo.connection(tx, ref.vpn_service_id, c.id)),
        audit: [
          { vpn_service_id: ref.vpn_service_id, connection_id: c.id, action, detail: c.name },
        ],
      };
    });
  }
}
