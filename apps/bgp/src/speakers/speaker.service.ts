import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION } from '@qnet/bus';
import {
  type BgpSpeakerDetailedStatus,
  type BgpSpeakerView,
  type CreateBgpSpeakerRequest,
  type ListBgpSpeakersRequest,
  type ListBgpSpeakersResponse,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, explainViolation, ownerProject } from '@qnet/persistence';
import { BgpRepository } from './bgp.repository.js';
import { SpeakerChanges } from './changes.js';
import { checkNode } from './registry.js';
import { phaseOf, speakerView, uptimeSeconds } from './views.js';

const SPEAKER_CONSTRAINTS = {
  bgp_speakers_node: { field: 'node_id', message: 'the node already has a BGP speaker' },
  bgp_speakers_name: { field: 'name', message: 'a speaker of this name exists in the project' },
};

/** BGP speakers: one per node, realized by that node's FRR. */
@Injectable()
export class SpeakerService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly repo: BgpRepository,
    private readonly changes: SpeakerChanges,
  ) {}

  async create(req: CreateBgpSpeakerRequest): Promise<BgpSpeakerView> {
    await checkNode(this.nc, req.node_id);
    const id = randomUUID();
    return this.changes.onNode(req.node_id, async (tx, generation) => {
      await this.repo
        .insertSpeaker(
          tx,
          {
            id,
            name: req.name ?? `speaker-${req.node_id}`,
            project_id: ownerProject(req.project_id),
            description: req.description ?? '',
            labels: req.labels ?? {},
            node_id: req.node_id,
            local_asn: req.local_asn,
            router_id: req.router_id,
          },
          generation,
        )
        .catch((err: unknown) => explainViolation(err, SPEAKER_CONSTRAINTS));
      const view = speakerView(await this.repo.speaker(tx, id));
      return { result: view, events: [{ resource: 'speaker', event: 'created', id, data: view }] };
    });
  }

  async get(id: string): Promise<BgpSpeakerView> {
    return speakerView(await this.repo.speaker(autocommit(this.ds), id));
  }

  async list(req: ListBgpSpeakersRequest): Promise<ListBgpSpeakersResponse> {
    const page = await this.repo.listSpeakers(req);
    return { speakers: page.items.map(speakerView), next_page_token: page.next_page_token };
  }

  /** Its peers and advertisements go with it; the node's agent removes FRR's BGP configuration. */
  async delete(id: string): Promise<void> {
    await this.changes.onSpeaker(id, async (tx, s) => {
      await this.repo.deleteSpeaker(tx, id);
      return {
        result: undefined,
        events: [{ resource: 'speaker', event: 'deleted', id, data: { node_id: s.node_id } }],
      };
    });
  }

  /** Seed 001's status document. */
  async status(id: string): Promise<BgpSpeakerDetailedStatus> {
    const tx = autocommit(this.ds);
    const s = await this.repo.speaker(tx, id);
    const peers = await this.repo.peers(tx, id);
    const ads = await this.repo.advertisements(tx, id);
    const now = Date.now();
    return {
      speaker_id: s.id,
      status: {
        phase: phaseOf(s).phase.toUpperCase(),
        active_peers: s.established_peers,
        advertised_routes: ads.filter((a) => a.active).length,
      },
      peers: peers.map((p) => ({
        id: p.id,
        peer_ip: p.peer_address,
        remote_asn: p.peer_asn,
        state: p.state,
        prefixes_received: p.prefixes_received,
        prefixes_advertised: p.prefixes_sent,
        uptime_seconds: uptimeSeconds(p, now),
      })),
      advertisements: ads.map((a) => ({
        id: a.id,
        cidr: a.prefix,
        next_hop: a.next_hop ?? '',
        active: a.active,
      })),
    };
  }
}
