import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventPublisher } from '@qnet/bus';
import {
  PEER_STATES,
  type DriverStatusReport,
  type FrrObserved,
  type FrrPeerObserved,
  type PeerState,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, inTransaction, type SqlTx } from '@qnet/persistence';
import { BgpRepository, type PeerRow } from '../speakers/bgp.repository.js';

/** An uptime that moved by more than this between reports means the session was re-established. */
const UPTIME_SLACK_MS = 5_000;

/** FRR's FSM names (Established, OpenSent, "Idle (Admin)") as the API's states. */
export function peerStateOf(frrState: string): PeerState {
  const s = frrState
    .replace(/\(.*\)/, '')
    .replace(/[^A-Za-z]/g, '')
    .toUpperCase();
  return (PEER_STATES as readonly string[]).includes(s) ? (s as PeerState) : 'IDLE';
}

interface Session {
  state: PeerState;
  prefixes_received: number;
  prefixes_sent: number;
  established_at: Date | null;
  last_error: string;
}

function sessionOf(o: FrrPeerObserved | undefined, running: boolean, now: number): Session {
  if (!o)
    return {
      state: 'IDLE',
      prefixes_received: 0,
      prefixes_sent: 0,
      established_at: null,
      last_error: running ? 'not configured on the node yet' : 'FRR (bgpd) is not answering',
    };
  const state = peerStateOf(o.state);
  const up = state === 'ESTABLISHED';
  return {
    state,
    prefixes_received: o.prefixes_received,
    prefixes_sent: o.prefixes_sent,
    established_at: up ? new Date(now - o.uptime_ms) : null,
    last_error: up
      ? ''
      : o.connections_established === 0
        ? 'never established: no BGP OPEN exchanged (check reachability, the peer ASN and that both sides use the same MD5 password)'
        : `session down, last reset: ${o.last_reset || 'unknown'}`,
  };
}

const changed = (p: PeerRow, s: Session) =>
  p.state !== s.state ||
  p.prefixes_received !== s.prefixes_received ||
  p.prefixes_sent !== s.prefixes_sent ||
  p.last_error !== s.last_error ||
  (p.established_at === null) !== (s.established_at === null) ||
  (p.established_at !== null &&
    Math.abs(p.established_at.getTime() - s.established_at!.getTime()) > UPTIME_SLACK_MS);

/** What nodes' agents report: applied generations, and per-peer sessions and originated prefixes. */
@Injectable()
export class SessionStatusService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly repo: BgpRepository,
    private readonly events: EventPublisher,
  ) {}

  async record(report: DriverStatusReport): Promise<void> {
    const observed = report.observed as FrrObserved | undefined;
    const running = typeof observed?.running === 'boolean' ? observed.running : null;
    const [host] = await autocommit(this.ds).rows<{ host_id: string }>(
      `UPDATE bgp_hosts SET reported_at = now(),
         applied = CASE WHEN $2 THEN GREATEST(applied, $3) ELSE applied END,
         error = CASE WHEN $2 THEN NULL WHEN $3 >= applied THEN $4 ELSE error END,
         frr_running = COALESCE($5, frr_running)
       WHERE host_id = $1 RETURNING host_id`,
      [report.host_id, report.ok, report.generation, report.error ?? 'failed', running],
    );
    if (host && observed && Array.isArray(observed.peers))
      await this.recordSessions(report.host_id, observed);
  }

  private async recordSessions(nodeId: string, observed: FrrObserved): Promise<void> {
    const transitions = await inTransaction(this.ds, async (tx) => {
      const speaker = await this.repo.speakerOnNode(tx, nodeId);
      if (!speaker) return [];
      await this.recordActive(tx, speaker.id, observed.local_prefixes ?? []);
      const byAddress = new Map(observed.peers.map((p) => [p.address, p]));
      const now = Date.now();
      const out: { peer: PeerRow; to: PeerState }[] = [];
      for (const p of await this.repo.peers(tx, speaker.id)) {
        const s = sessionOf(byAddress.get(p.peer_address), observed.running, now);
        if (!changed(p, s)) continue;
        await tx.rows(
          `UPDATE bgp_peers SET state = $2, prefixes_received = $3, prefixes_sent = $4,
             established_at = $5, last_error = $6 WHERE id = $1`,
          [p.id, s.state, s.prefixes_received, s.prefixes_sent, s.established_at, s.last_error],
        );
        if (p.state !== s.state) out.push({ peer: p, to: s.state });
      }
      return out;
    });
    for (const { peer, to } of transitions)
      this.events.emit('bgp', 'peer', 'state_changed', peer.id, {
        speaker_id: peer.speaker_id,
        peer_address: peer.peer_address,
        from: peer.state,
        to,
      });
  }

  private async recordActive(tx: SqlTx, speakerId: string, prefixes: string[]): Promise<void> {
    await tx.rows(
      `UPDATE bgp_advertisements SET active = (prefix::text = ANY($2::text[]))
       WHERE speaker_id = $1 AND active IS DISTINCT FROM (prefix::text = ANY($2::text[]))`,
      [speakerId, prefixes],
    );
  }
}
