import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type ListBgpSpeakersRequest,
  type Page,
  type PageRequest,
  type PeerState,
} from '@qnet/contracts';
import {
  asText,
  autocommit,
  DATA_SOURCE,
  hostText,
  inCallerScope,
  listedProject,
  type Query,
  type SqlTx,
} from '@qnet/persistence';
import { sql } from 'kysely';
import { db } from '../db/index.js';

/** Where a speaker's phase comes from: its last change's generation against its node's progress. */
export interface HostProgress {
  generation: string;
  applied: string;
  error: string | null;
  frr_running: boolean | null;
}

export interface SpeakerRow extends HostProgress {
  id: string;
  name: string;
  project_id: string;
  description: string;
  labels: Record<string, string>;
  node_id: string;
  local_asn: number;
  router_id: string;
  established_peers: number;
  created_at: Date;
  updated_at: Date;
}

export interface PeerRow {
  id: string;
  speaker_id: string;
  name: string;
  description: string;
  peer_address: string;
  peer_asn: number;
  password_sealed: string | null;
  hold_time: number | null;
  keepalive_interval: number | null;
  bfd: boolean;
  max_prefixes: number | null;
  state: PeerState;
  prefixes_received: number;
  prefixes_sent: number;
  established_at: Date | null;
  last_error: string;
  created_at: Date;
}

export interface AdvertisementRow {
  id: string;
  speaker_id: string;
  prefix: string;
  next_hop: string | null;
  communities: string[];
  local_pref: number | null;
  active: boolean;
  created_at: Date;
}

export type NewSpeaker = Omit<
  SpeakerRow,
  keyof HostProgress | 'established_peers' | 'created_at' | 'updated_at'
>;
export type NewPeer = Omit<
  PeerRow,
  'state' | 'prefixes_received' | 'prefixes_sent' | 'established_at' | 'last_error' | 'created_at'
>;
export type NewAdvertisement = Omit<AdvertisementRow, 'active' | 'created_at'>;
export type RenderedAdvertisement = Pick<
  AdvertisementRow,
  'prefix' | 'next_hop' | 'communities' | 'local_pref'
>;

/** A peer's session as the node's FRR reports it. */
export interface PeerSession {
  state: PeerState;
  prefixes_received: number;
  prefixes_sent: number;
  established_at: Date | null;
  last_error: string;
}

const SPEAKER_COLUMNS = [
  's.id',
  's.name',
  's.project_id',
  's.description',
  's.labels',
  's.node_id',
  sql<number>`s.local_asn::float8`.as('local_asn'),
  hostText('s.router_id').as('router_id'),
  's.generation',
  's.created_at',
  's.updated_at',
  'h.applied',
  'h.error',
  'n.frr_running',
  sql<number>`(SELECT count(*)::int FROM bgp_peers p WHERE p.speaker_id = s.id AND p.state = 'ESTABLISHED')`.as(
    'established_peers',
  ),
] as const;

/** Speakers with their node's `frr` progress and whether its FRR answered. */
const speakers = () =>
  db
    .selectFrom('bgp_speakers as s')
    .innerJoin('agent_drivers as h', (j) =>
      j.onRef('h.host_id', '=', 's.node_id').on('h.driver', '=', 'frr'),
    )
    .leftJoin('bgp_hosts as n', 'n.host_id', 's.node_id')
    .select(SPEAKER_COLUMNS);

const PEER_COLUMNS = [
  'id',
  'speaker_id',
  'name',
  'description',
  hostText('peer_address').as('peer_address'),
  sql<number>`peer_asn::float8`.as('peer_asn'),
  'password_sealed',
  'hold_time',
  'keepalive_interval',
  'bfd',
  sql<number | null>`max_prefixes::float8`.as('max_prefixes'),
  'state',
  'prefixes_received',
  'prefixes_sent',
  'established_at',
  'last_error',
  'created_at',
] as const;

/** What a node's FRR state says of an advertisement (a render reads ~1,000 per change). */
const RENDERED_ADVERTISEMENT_COLUMNS = [
  asText('prefix').as('prefix'),
  hostText<string | null>('next_hop').as('next_hop'),
  'communities',
  sql<number | null>`local_pref::float8`.as('local_pref'),
] as const;

const ADVERTISEMENT_COLUMNS = [
  'id',
  'speaker_id',
  ...RENDERED_ADVERTISEMENT_COLUMNS,
  'active',
  'created_at',
] as const;

/** Keyset page in id order, from a query of rows with ids. */
async function pageIn<R extends { id: string }>(
  tx: SqlTx,
  query: (after: string | undefined, limit: number) => Query<R>,
  req: PageRequest,
): Promise<Page<R>> {
  const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
  const rows = await tx.run(query(pageStart(req.page_token), limit + 1));
  return pageOf(
    rows,
    limit,
    (r) => r,
    (r) => r.id,
  );
}

@Injectable()
export class BgpRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async nodeOf(speakerId: string): Promise<string> {
    const [row] = await autocommit(this.ds).run(
      db
        .selectFrom('bgp_speakers')
        .select('node_id')
        .where('id', '=', speakerId)
        .where(inCallerScope('project_id')),
    );
    if (!row) throw QnetError.notFound('bgp speaker', speakerId);
    return row.node_id;
  }

  async speaker(tx: SqlTx, id: string, lock = false): Promise<SpeakerRow> {
    const [row] = await tx.run(
      speakers()
        .where('s.id', '=', id)
        .where(inCallerScope('s.project_id'))
        .$call((q) => (lock ? q.forUpdate(['s']) : q)),
    );
    if (!row) throw QnetError.notFound('bgp speaker', id);
    return row;
  }

  async speakerOnNode(tx: SqlTx, nodeId: string): Promise<SpeakerRow | undefined> {
    const [row] = await tx.run(speakers().where('s.node_id', '=', nodeId));
    return row;
  }

  async listSpeakers(req: ListBgpSpeakersRequest): Promise<Page<SpeakerRow>> {
    const project = listedProject(req.project_id);
    return pageIn(
      autocommit(this.ds),
      (after, limit) =>
        speakers()
          .$call((q) => (after ? q.where('s.id', '>', after) : q))
          .$call((q) => (project ? q.where('s.project_id', '=', project) : q))
          .$call((q) => (req.node_id ? q.where('s.node_id', '=', req.node_id) : q))
          .orderBy('s.id')
          .limit(limit),
      req,
    );
  }

  async insertSpeaker(tx: SqlTx, s: NewSpeaker, generation: number): Promise<void> {
    await tx.run(db.insertInto('bgp_speakers').values({ ...s, generation }));
  }

  /** Records that the speaker changed in `generation` (its phase is pending until applied). */
  async touchSpeaker(tx: SqlTx, id: string, generation: number): Promise<void> {
    await tx.run(
      db
        .updateTable('bgp_speakers')
        .set({ generation, updated_at: sql`now()` })
        .where('id', '=', id),
    );
  }

  async deleteSpeaker(tx: SqlTx, id: string): Promise<void> {
    await tx.run(db.deleteFrom('bgp_speakers').where('id', '=', id));
  }

  async peer(tx: SqlTx, speakerId: string, id: string): Promise<PeerRow> {
    const [row] = await tx.run(
      db
        .selectFrom('bgp_peers')
        .select(PEER_COLUMNS)
        .where('id', '=', id)
        .where('speaker_id', '=', speakerId),
    );
    if (!row) throw QnetError.notFound('bgp peer', id);
    return row;
  }

  peers(tx: SqlTx, speakerId: string): Promise<PeerRow[]> {
    return tx.run(
      db
        .selectFrom('bgp_peers')
        .select(PEER_COLUMNS)
        .where('speaker_id', '=', speakerId)
        .orderBy('bgp_peers.peer_address'),
    );
  }

  listPeers(speakerId: string, req: PageRequest): Promise<Page<PeerRow>> {
    return pageIn(
      autocommit(this.ds),
      (after, limit) =>
        db
          .selectFrom('bgp_peers')
          .select(PEER_COLUMNS)
          .where('speaker_id', '=', speakerId)
          .$call((q) => (after ? q.where('id', '>', after) : q))
          .orderBy('id')
          .limit(limit),
      req,
    );
  }

  async insertPeer(tx: SqlTx, p: NewPeer): Promise<void> {
    await tx.run(db.insertInto('bgp_peers').values(p));
  }

  async deletePeer(tx: SqlTx, speakerId: string, id: string): Promise<void> {
    await this.peer(tx, speakerId, id);
    await tx.run(db.deleteFrom('bgp_peers').where('id', '=', id));
  }

  advertisements(tx: SqlTx, speakerId: string): Promise<AdvertisementRow[]> {
    return tx.run(
      db
        .selectFrom('bgp_advertisements')
        .select(ADVERTISEMENT_COLUMNS)
        .where('speaker_id', '=', speakerId)
        .orderBy('bgp_advertisements.prefix'),
    );
  }

  /** A speaker's advertisements as its node's FRR state carries them, in prefix order. */
  renderedAdvertisements(tx: SqlTx, speakerId: string): Promise<RenderedAdvertisement[]> {
    return tx.run(
      db
        .selectFrom('bgp_advertisements')
        .select(RENDERED_ADVERTISEMENT_COLUMNS)
        .where('speaker_id', '=', speakerId)
        .orderBy('bgp_advertisements.prefix'),
    );
  }

  listAdvertisements(speakerId: string, req: PageRequest): Promise<Page<AdvertisementRow>> {
    return pageIn(
      autocommit(this.ds),
      (after, limit) =>
        db
          .selectFrom('bgp_advertisements')
          .select(ADVERTISEMENT_COLUMNS)
          .where('speaker_id', '=', speakerId)
          .$call((q) => (after ? q.where('id', '>', after) : q))
          .orderBy('id')
          .limit(limit),
      req,
    );
  }

  /** The new advertisement as stored (normalized prefix and next hop). */
  async insertAdvertisement(tx: SqlTx, a: NewAdvertisement): Promise<AdvertisementRow> {
    const [row] = await tx.run(
      db.insertInto('bgp_advertisements').values(a).returning(ADVERTISEMENT_COLUMNS),
    );
    if (!row) throw new Error('INSERT … RETURNING gave no row');
    return row;
  }

  /** Withdraws by id or by prefix; 404 when neither names an advertisement of the speaker. */
  async deleteAdvertisement(
    tx: SqlTx,
    speakerId: string,
    by: { id?: string; prefix?: string },
  ): Promise<AdvertisementRow> {
    const [row] = await tx.run(
      db
        .deleteFrom('bgp_advertisements')
        .where('speaker_id', '=', speakerId)
        .$call((q) => (by.id ? q.where('id', '=', by.id) : q))
        .$call((q) => (by.prefix ? q.where('prefix', '=', sql<string>`${by.prefix}::cidr`) : q))
        .returning(ADVERTISEMENT_COLUMNS),
    );
    if (!row) throw QnetError.notFound('bgp advertisement', by.id ?? by.prefix ?? '');
    return row;
  }

  /** Whether the node's FRR answered, as its agent last saw it (unchanged when it did not say). */
  async recordFrrRunning(tx: SqlTx, nodeId: string, running: boolean | null): Promise<void> {
    if (running === null) return;
    await tx.run(
      db
        .insertInto('bgp_hosts')
        .values({ host_id: nodeId, frr_running: running })
        .onConflict((oc) =>
          oc
            .column('host_id')
            .doUpdateSet((eb) => ({ frr_running: eb.ref('excluded.frr_running') })),
        ),
    );
  }

  async recordSession(tx: SqlTx, peerId: string, s: PeerSession): Promise<void> {
    await tx.run(
      db
        .updateTable('bgp_peers')
        .set({
          state: s.state,
          prefixes_received: s.prefixes_received,
          prefixes_sent: s.prefixes_sent,
          established_at: s.established_at,
          last_error: s.last_error,
        })
        .where('id', '=', peerId),
    );
  }

  /** Marks which of the speaker's advertisements the node really originates. */
  async recordActive(tx: SqlTx, speakerId: string, prefixes: string[]): Promise<void> {
    const originated = sql<boolean>`(prefix::text = ANY(${prefixes}::text[]))`;
    await tx.run(
      db
        .updateTable('bgp_advertisements')
        .set({ active: originated })
        .where('speaker_id', '=', speakerId)
        .where(sql<boolean>`active IS DISTINCT FROM ${originated}`),
    );
  }
}
