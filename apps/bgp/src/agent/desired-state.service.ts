import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION, pushDesiredState } from '@qnet/bus';
import { type DesiredState, type FrrSpec } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, type SqlTx } from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import { BgpRepository } from '../speakers/bgp.repository.js';
import { SECRET_BOX } from '../tokens.js';

export const DRIVER = 'frr';

export type NodeState = DesiredState<FrrSpec>;

/**
 * Renders one node's `frr` desired state — its speaker with every peer (MD5 passwords unsealed
 * only here) and advertisement — and sends it to that node's agent (DESIGN §4).
 */
@Injectable()
export class DesiredStateService {
  private readonly logger = new Logger(DesiredStateService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: BgpRepository,
  ) {}

  /** After the change that rendered `state` committed; a lost push is repaired by the agent's pull. */
  push(hostId: string, state: DesiredState): void {
    pushDesiredState(this.nc, hostId, state, (m) => this.logger.warn(m));
  }

  current(nodeId: string): Promise<NodeState> {
    return this.render(autocommit(this.ds), nodeId);
  }

  async render(tx: SqlTx, nodeId: string): Promise<NodeState> {
    const [host] = await tx.rows<{ generation: string }>(
      `SELECT generation FROM bgp_hosts WHERE host_id = $1`,
      [nodeId],
    );
    const speaker = await this.repo.speakerOnNode(tx, nodeId);
    const state: NodeState = {
      driver: DRIVER,
      generation: Number(host?.generation ?? 0),
      spec: {},
    };
    if (!speaker) return state;
    const peers = await this.repo.peers(tx, speaker.id);
    const ads = await this.repo.advertisements(tx, speaker.id);
    state.spec.speaker = {
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
    };
    return state;
  }
}
