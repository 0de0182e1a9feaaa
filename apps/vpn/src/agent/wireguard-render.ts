import { Inject, Injectable } from '@nestjs/common';
import type { WireguardSpec } from '@qnet/contracts';
import type { SqlTx } from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import { renderEach, type DriverRenderer } from '@qnet/service';
import { VpnRepository } from '../gateways/vpn.repository.js';
import { SECRET_BOX } from '../tokens.js';

export const DRIVER = 'wireguard';

/**
 * Renders a host's `wireguard` desired state: every gateway on it with every peer, keys unsealed
 * only here.
 */
@Injectable()
export class WireguardRenderer implements DriverRenderer<WireguardSpec> {
  constructor(
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: VpnRepository,
  ) {}

  render(tx: SqlTx, hostIds: readonly string[]): Promise<WireguardSpec[]> {
    return renderEach(hostIds, (id) => this.renderHost(tx, id));
  }

  private async renderHost(tx: SqlTx, hostId: string): Promise<WireguardSpec> {
    const { services, peers } = await this.repo.realizedOn(tx, hostId);
    const byService = new Map<string, typeof peers>();
    for (const p of peers)
      byService.set(p.vpn_service_id, [...(byService.get(p.vpn_service_id) ?? []), p]);
    return {
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
    };
  }
}
