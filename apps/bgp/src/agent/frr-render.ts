import { Inject, Injectable } from '@nestjs/common';
import type { FrrSpec } from '@qnet/contracts';
import type { SqlTx } from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import { renderEach, type DriverRenderer } from '@qnet/service';
import { BgpRepository } from '../speakers/bgp.repository.js';
import { SECRET_BOX } from '../tokens.js';

export const DRIVER = 'frr';

/**
 * Renders a node's `frr` desired state: its speaker with every peer (MD5 passwords unsealed only
 * here) and advertisement.
 */
@Injectable()
export class FrrRenderer implements DriverRenderer<FrrSpec> {
  constructor(
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: BgpRepository,
  ) {}

  render(tx: SqlTx, nodeIds: readonly string[]): Promise<FrrSpec[]> {
    return renderEach(nodeIds, (id) => this.renderNode(tx, id));
  }

  private async renderNode(tx: SqlTx, nodeId: string): Promise<FrrSpec> {
    const speaker = await this.repo.speakerOnNode(tx, nodeId);
    if (!speaker) return {};
    const peers = await this.repo.peers(tx, speaker.id);
    const ads = await this.repo.renderedAdvertisements(tx, speaker.id);
    return {
      speaker: {
        local_asn: speaker.local_asn,
        router_id: speaker.router_id,
        peers: peers.map((p) => ({
          address: p.peer_address,
          asn: p.peer_asn,
          ...(p.description ? { description: p.description } : {}),
          ...(p.password_sealed ? { password: this.secrets.open(p.password_sealed) } : {}),
          ...(p.hold_time !== null
            ? { hold_time: p.hold_time, keepalive: p.keepalive_interval ?? 0 }
            : {}),
          bfd: p.bfd,
          ...(p.max_prefixes !== null ? { max_prefixes: p.max_prefixes } : {}),
        })),
        advertisements: ads.map((a) => ({
          prefix: a.prefix,
          ...(a.next_hop ? { next_hop: a.next_hop } : {}),
          communities: a.communities,
          ...(a.local_pref !== null ? { local_pref: a.local_pref } : {}),
        })),
      },
    };
  }
}
