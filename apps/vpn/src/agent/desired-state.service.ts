import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION, pushDesiredState } from '@qnet/bus';
import { type DesiredState, type WireguardSpec } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, type SqlTx } from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import { SECRET_BOX } from '../tokens.js';

export const DRIVER = 'wireguard';

export type HostState = DesiredState<WireguardSpec>;

/**
 * Renders one host's `wireguard` desired state — every gateway on it with every peer, keys
 * unsealed only here — and sends it to that host's agent (DESIGN §4).
 */
@Injectable()
export class DesiredStateService {
  private readonly logger = new Logger(DesiredStateService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
  ) {}

  /** After the change that rendered `state` committed; a lost push is repaired by the agent's pull. */
  push(hostId: string, state: DesiredState): void {
    pushDesiredState(this.nc, hostId, state, (m) => this.logger.warn(m));
  }

  /** The current state for an agent's pull. */
  current(hostId: string): Promise<HostState> {
    return this.render(autocommit(this.ds), hostId);
  }

  async render(tx: SqlTx, hostId: string): Promise<HostState> {
    const [host] = await tx.rows<{ generation: string }>(
      `SELECT generation FROM vpn_hosts WHERE host_id = $1`,
      [hostId],
    );
    const services = await tx.rows<{
      id: string;
      interface_name: string;
      private_key_sealed: string;
      listen_port: number;
      gateway_address: string;
      local_subnets: string[];
    }>(
      `SELECT id, interface_name, private_key_sealed, listen_port, gateway_address::text AS gateway_address,
         local_subnets::text[] AS local_subnets
       FROM vpn_services WHERE host_id = $1 ORDER BY interface_name`,
      [hostId],
    );
    const peers = await tx.rows<{
      vpn_service_id: string;
      peer_public_key: string;
      preshared_key_sealed: string | null;
      allowed_ip: string;
    }>(
      `SELECT c.vpn_service_id, c.peer_public_key, c.preshared_key_sealed,
         host(c.peer_address) || '/' || masklen(c.peer_address) AS allowed_ip
       FROM vpn_connections c JOIN vpn_services s ON s.id = c.vpn_service_id
       WHERE s.host_id = $1 ORDER BY c.peer_address`,
      [hostId],
    );
    const byService = new Map<string, typeof peers>();
    for (const p of peers)
      byService.set(p.vpn_service_id, [...(byService.get(p.vpn_service_id) ?? []), p]);
    return {
      driver: DRIVER,
      generation: Number(host?.generation ?? 0),
      spec: {
        interfaces: services.map((s) => ({
          name: s.interface_name,
          private_key: this.secrets.open(s.private_key_sealed),
          listen_port: s.listen_port,
          address: s.gateway_address,
          local_subnets: s.local_subnets,
          peers: (byService.get(s.id) ?? []).map((p) => ({
            public_key: p.peer_public_key,
            ...(p.preshared_key_sealed
              ? { preshared_key: this.secrets.open(p.preshared_key_sealed) }
              : {}),
            allowed_ip: p.allowed_ip,
          })),
        })),
      },
    };
  }
}
