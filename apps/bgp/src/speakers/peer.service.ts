import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  QnetError,
  type AddBgpPeerRequest,
  type BgpPeerView,
  type ListBgpPeersRequest,
  type ListBgpPeersResponse,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, explainViolation } from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import { SECRET_BOX } from '../tokens.js';
import { BgpRepository } from './bgp.repository.js';
import { SpeakerChanges } from './changes.js';
import { peerView } from './views.js';

const PEER_CONSTRAINTS = {
  bgp_peers_address: { field: 'peer_address', message: 'the speaker already has this peer' },
  bgp_peers_name: { field: 'name', message: 'the speaker already has a peer of this name' },
};

/** Seed 001's timers: hold 0 (no keepalives) or 3-65535, keepalive at most a third of it. */
function timersOf(req: AddBgpPeerRequest): { hold: number; keepalive: number } | undefined {
  const { hold_time: hold, keepalive_interval: keepalive } = req;
  if (hold === undefined && keepalive === undefined) return undefined;
  const h = hold ?? keepalive! * 3;
  const k = keepalive ?? Math.floor(h / 3);
  if (h !== 0 && h < 3) throw QnetError.invalid('hold_time', 'must be 0 or 3-65535');
  if (h > 65535) throw QnetError.invalid('keepalive_interval', 'times 3 must be at most 65535');
  if (h === 0 ? k !== 0 : k * 3 > h)
    throw QnetError.invalid('keepalive_interval', `must be at most hold_time / 3 (${h / 3})`);
  return { hold: h, keepalive: k };
}

/** A speaker's BGP neighbors (ToR switches); MD5 passwords are sealed and never returned. */
@Injectable()
export class PeerService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: BgpRepository,
    private readonly changes: SpeakerChanges,
  ) {}

  async add(req: AddBgpPeerRequest): Promise<BgpPeerView> {
    const timers = timersOf(req);
    const id = randomUUID();
    return this.changes.onSpeaker(req.speaker_id, async (tx) => {
      await this.repo
        .insertPeer(tx, {
          id,
          speaker_id: req.speaker_id,
          name: req.name,
          description: req.description ?? '',
          peer_address: req.peer_address,
          peer_asn: req.peer_asn,
          password_sealed: req.password ? this.secrets.seal(req.password) : null,
          hold_time: timers?.hold ?? null,
          keepalive_interval: timers?.keepalive ?? null,
          bfd: req.bfd ?? false,
          max_prefixes: req.max_prefixes ?? null,
        })
        .catch((err: unknown) => explainViolation(err, PEER_CONSTRAINTS));
      const view = peerView(await this.repo.peer(tx, req.speaker_id, id));
      return { result: view, events: [{ resource: 'peer', event: 'added', id, data: view }] };
    });
  }

  async list(req: ListBgpPeersRequest): Promise<ListBgpPeersResponse> {
    await this.repo.speaker(autocommit(this.ds), req.speaker_id);
    const page = await this.repo.listPeers(req.speaker_id, req);
    const now = Date.now();
    return {
      peers: page.items.map((p) => peerView(p, now)),
      next_page_token: page.next_page_token,
    };
  }

  async remove(speakerId: string, peerId: string): Promise<void> {
    await this.changes.onSpeaker(speakerId, async (tx) => {
      await this.repo.deletePeer(tx, speakerId, peerId);
      return {
        result: undefined,
        events: [
          { resource: 'peer', event: 'removed', id: peerId, data: { speaker_id: speakerId } },
        ],
      };
    });
  }
}
