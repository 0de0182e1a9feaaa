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
  autocommit,
  callerScope,
  DATA_SOURCE,
  inScope,
  listedProject,
  type SqlTx,
} from '@qnet/persistence';

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

/** A peer's session as the node's FRR reports it. */
export interface PeerSession {
  state: PeerState;
  prefixes_received: number;
  prefixes_sent: number;
  established_at: Date | null;
  last_error: string;
}

const SPEAKER_COLUMNS = `s.id, s.name, s.project_id, s.description, s.labels, s.node_id,
  s.local_asn::float8 AS local_asn, host(s.router_id) AS router_id, s.generation, s.created_at,
  s.updated_at, h.applied, h.error, n.frr_running,
  (SELECT count(*)::int FROM bgp_peers p WHERE p.speaker_id = s.id AND p.state = 'ESTABLISHED')
    AS established_peers`;
const SPEAKERS = `bgp_speakers s JOIN agent_drivers h ON h.host_id = s.node_id AND h.driver = 'frr'
  LEFT JOIN bgp_hosts n ON n.host_id = s.node_id`;
const PEER_COLUMNS = `id, speaker_id, name, description, host(peer_address) AS peer_address,
  peer_asn::float8 AS peer_asn, password_sealed, hold_time, keepalive_interval, bfd,
  max_prefixes::float8 AS max_prefixes, state, prefixes_received, prefixes_sent, established_at,
  last_error, created_at`;
const ADVERTISEMENT_COLUMNS = `id, speaker_id, prefix::text AS prefix,
  host(next_hop) AS next_hop, communities, local_pref::float8 AS local_pref, active, created_at`;

/** Keyset page over one speaker's rows, in id order. */
async function pageIn<R extends { id: string }>(
  tx: SqlTx,
  sql: string,
  speakerId: string,
  req: PageRequest,
): Promise<Page<R>> {
  const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
  const rows = await tx.rows<R>(sql, [speakerId, pageStart(req.page_token) ?? null, limit + 1]);
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
    const [row] = await autocommit(this.ds).rows<{ node_id: string }>(
      `SELECT node_id FROM bgp_speakers WHERE id = $1 AND ${inScope('project_id', 2)}`,
      [speakerId, callerScope()],
    );
    if (!row) throw QnetError.notFound('bgp speaker', speakerId);
    return row.node_id;
  }

  async speaker(tx: SqlTx, id: string, lock = false): Promise<SpeakerRow> {
    const [row] = await tx.rows<SpeakerRow>(
      `SELECT ${SPEAKER_COLUMNS} FROM ${SPEAKERS} WHERE s.id = $1 AND ${inScope('s.project_id', 2)}
       ${lock ? 'FOR UPDATE OF s' : ''}`,
      [id, callerScope()],
    );
    if (!row) throw QnetError.notFound('bgp speaker', id);
    return row;
  }

  async speakerOnNode(tx: SqlTx, nodeId: string): Promise<SpeakerRow | undefined> {
    const [row] = await tx.rows<SpeakerRow>(
      `SELECT ${SPEAKER_COLUMNS} FROM ${SPEAKERS} WHERE s.node_id = $1`,
      [nodeId],
    );
    return row;
  }

  async listSpeakers(req: ListBgpSpeakersRequest): Promise<Page<SpeakerRow>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const rows = await autocommit(this.ds).rows<SpeakerRow>(
      `SELECT ${SPEAKER_COLUMNS} FROM ${SPEAKERS}
       WHERE ($1::uuid IS NULL OR s.id > $1) AND ($2::text IS NULL OR s.project_id = $2)
         AND ($3::text IS NULL OR s.node_id = $3)
       ORDER BY s.id LIMIT $4`,
      [
        pageStart(req.page_token) ?? null,
        listedProject(req.project_id),
        req.node_id ?? null,
        limit + 1,
      ],
    );
    return pageOf(
      rows,
      limit,
      (r) => r,
      (r) => r.id,
    );
  }

  async insertSpeaker(tx: SqlTx, s: NewSpeaker, generation: number): Promise<void> {
    await tx.rows(
      `INSERT INTO bgp_speakers (id, name, project_id, description, labels, node_id, local_asn,
         router_id, generation)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        s.id,
        s.name,
        s.project_id,
        s.description,
        JSON.stringify(s.labels),
        s.node_id,
        s.local_asn,
        s.router_id,
        generation,
      ],
    );
  }

  /** Records that the speaker changed in `generation` (its phase is pending until applied). */
  async touchSpeaker(tx: SqlTx, id: string, generation: number): Promise<void> {
    await tx.rows(`UPDATE bgp_speakers SET generation = $2, updated_at = now() WHERE id = $1`, [
      id,
      generation,
    ]);
  }

  async deleteSpeaker(tx: SqlTx, id: string): Promise<void> {
    await tx.rows(`DELETE FROM bgp_speakers WHERE id = $1`, [id]);
  }

  async peer(tx: SqlTx, speakerId: string, id: string): Promise<PeerRow> {
    const [row] = await tx.rows<PeerRow>(
      `SELECT ${PEER_COLUMNS} FROM bgp_peers WHERE id = $1 AND speaker_id = $2`,
      [id, speakerId],
    );
    if (!row) throw QnetError.notFound('bgp peer', id);
    return row;
  }

  peers(tx: SqlTx, speakerId: string): Promise<PeerRow[]> {
    return tx.rows<PeerRow>(
      `SELECT ${PEER_COLUMNS} FROM bgp_peers WHERE speaker_id = $1 ORDER BY peer_address`,
      [speakerId],
    );
  }

  listPeers(speakerId: string, req: PageRequest): Promise<Page<PeerRow>> {
    return pageIn<PeerRow>(
      autocommit(this.ds),
      `SELECT ${PEER_COLUMNS} FROM bgp_peers
       WHERE speaker_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      speakerId,
      req,
    );
  }

  async insertPeer(tx: SqlTx, p: NewPeer): Promise<void> {
    await tx.rows(
      `INSERT INTO bgp_peers (id, speaker_id, name, description, peer_address, peer_asn,
         password_sealed, hold_time, keepalive_interval, bfd, max_prefixes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        p.id,
        p.speaker_id,
        p.name,
        p.description,
        p.peer_address,
        p.peer_asn,
        p.password_sealed,
        p.hold_time,
        p.keepalive_interval,
        p.bfd,
        p.max_prefixes,
      ],
    );
  }

  async deletePeer(tx: SqlTx, speakerId: string, id: string): Promise<void> {
    await this.peer(tx, speakerId, id);
    await tx.rows(`DELETE FROM bgp_peers WHERE id = $1`, [id]);
  }

  advertisements(tx: SqlTx, speakerId: string): Promise<AdvertisementRow[]> {
    return tx.rows<AdvertisementRow>(
      `SELECT ${ADVERTISEMENT_COLUMNS} FROM bgp_advertisements WHERE speaker_id = $1 ORDER BY prefix`,
      [speakerId],
    );
  }

  async advertisement(tx: SqlTx, speakerId: string, id: string): Promise<AdvertisementRow> {
    const [row] = await tx.rows<AdvertisementRow>(
      `SELECT ${ADVERTISEMENT_COLUMNS} FROM bgp_advertisements WHERE id = $1 AND speaker_id = $2`,
      [id, speakerId],
    );
    if (!row) throw QnetError.notFound('bgp advertisement', id);
    return row;
  }

  listAdvertisements(speakerId: string, req: PageRequest): Promise<Page<AdvertisementRow>> {
    return pageIn<AdvertisementRow>(
      autocommit(this.ds),
      `SELECT ${ADVERTISEMENT_COLUMNS} FROM bgp_advertisements
       WHERE speaker_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      speakerId,
      req,
    );
  }

  async insertAdvertisement(tx: SqlTx, a: NewAdvertisement): Promise<void> {
    await tx.rows(
      `INSERT INTO bgp_advertisements (id, speaker_id, prefix, next_hop, communities, local_pref)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [a.id, a.speaker_id, a.prefix, a.next_hop, a.communities, a.local_pref],
    );
  }

  /** Withdraws by id or by prefix; 404 when neither names an advertisement of the speaker. */
  async deleteAdvertisement(
    tx: SqlTx,
    speakerId: string,
    by: { id?: string; prefix?: string },
  ): Promise<AdvertisementRow> {
    const [row] = await tx.rows<AdvertisementRow>(
      `DELETE FROM bgp_advertisements
       WHERE speaker_id = $1 AND ($2::uuid IS NULL OR id = $2) AND ($3::cidr IS NULL OR prefix = $3)
       RETURNING ${ADVERTISEMENT_COLUMNS}`,
      [speakerId, by.id ?? null, by.prefix ?? null],
    );
    if (!row) throw QnetError.notFound('bgp advertisement', by.id ?? by.prefix ?? '');
    return row;
  }
  /** Whether the node's FRR answered, as its agent last saw it (unchanged when it did not say). */
  async recordFrrRunning(tx: SqlTx, nodeId: string, running: boolean | null): Promise<void> {
    if (running === null) return;
    await tx.rows(
      `INSERT INTO bgp_hosts (host_id, frr_running) VALUES ($1, $2)
       ON CONFLICT (host_id) DO UPDATE SET frr_running = EXCLUDED.frr_running`,
      [nodeId, running],
    );
  }

  async recordSession(tx: SqlTx, peerId: string, s: PeerSession): Promise<void> {
    await tx.rows(
      `UPDATE bgp_peers SET state = $2, prefixes_received = $3, prefixes_sent = $4,
         established_at = $5, last_error = $6 WHERE id = $1`,
      [peerId, s.state, s.prefixes_received, s.prefixes_sent, s.established_at, s.last_error],
    );
  }

  /** Marks which of the speaker's advertisements the node really originates. */
  async recordActive(tx: SqlTx, speakerId: string, prefixes: string[]): Promise<void> {
    await tx.rows(
      `UPDATE bgp_advertisements SET active = (prefix::text = ANY($2::text[]))
       WHERE speaker_id = $1 AND active IS DISTINCT FROM (prefix::text = ANY($2::text[]))`,
      [speakerId, prefixes],
    );
  }
}
