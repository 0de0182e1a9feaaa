import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION } from '@qnet/bus';
import {
  QnetError,
  type AdvertiseNetworkRequest,
  type BgpAdvertisementView,
  type ListAdvertisementsRequest,
  type ListAdvertisementsResponse,
  type WithdrawNetworkRequest,
} from '@qnet/contracts';
import { ipFamily, parseCidr } from '@qnet/netaddr';
import { autocommit, DATA_SOURCE, explainViolation } from '@qnet/persistence';
import { BgpRepository } from './bgp.repository.js';
import { SpeakerChanges } from './changes.js';
import type { RouteFilter } from './registry.js';
import { advertisementView } from './views.js';
import { ROUTE_FILTER } from '../tokens.js';

const ADVERTISEMENT_CONSTRAINTS = {
  bgp_advertisements_prefix: { field: 'prefix', message: 'the speaker already advertises it' },
};

/** Prefixes a speaker announces to its peers, each with its communities and local preference. */
@Injectable()
export class AdvertisementService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(ROUTE_FILTER) private readonly filter: RouteFilter,
    private readonly repo: BgpRepository,
    private readonly changes: SpeakerChanges,
  ) {}

  async advertise(req: AdvertiseNetworkRequest): Promise<BgpAdvertisementView> {
    if (req.next_hop && ipFamily(req.next_hop) !== parseCidr(req.prefix).family)
      throw QnetError.invalid('next_hop', 'must be of the address family of prefix');
    const speaker = await this.repo.speaker(autocommit(this.ds), req.speaker_id);
    await this.filter.check(this.nc, speaker.project_id, req.prefix);
    const id = randomUUID();
    return this.changes.onSpeaker(req.speaker_id, async (tx) => {
      const row = await this.repo
        .insertAdvertisement(tx, {
          id,
          speaker_id: req.speaker_id,
          prefix: req.prefix,
          next_hop: req.next_hop ?? null,
          communities: req.communities ?? [],
          local_pref: req.local_pref ?? null,
        })
        .catch((err: unknown) => explainViolation(err, ADVERTISEMENT_CONSTRAINTS));
      const view = advertisementView(row);
      return {
        result: view,
        events: [{ resource: 'advertisement', event: 'created', id, data: view }],
      };
    });
  }

  async withdraw(req: WithdrawNetworkRequest): Promise<void> {
    if (!req.advertisement_id && !req.prefix)
      throw QnetError.invalid('advertisement_id', 'name the advertisement or its prefix');
    await this.changes.onSpeaker(req.speaker_id, async (tx) => {
      const gone = await this.repo.deleteAdvertisement(tx, req.speaker_id, {
        id: req.advertisement_id,
        prefix: req.prefix,
      });
      return {
        result: undefined,
        events: [
          {
            resource: 'advertisement',
            event: 'withdrawn',
            id: gone.id,
            data: advertisementView(gone),
          },
        ],
      };
    });
  }

  async list(req: ListAdvertisementsRequest): Promise<ListAdvertisementsResponse> {
    await this.repo.speaker(autocommit(this.ds), req.speaker_id);
    const page = await this.repo.listAdvertisements(req.speaker_id, req);
    return {
      advertisements: page.items.map(advertisementView),
      next_page_token: page.next_page_token,
    };
  }
}
