import { Injectable } from '@nestjs/common';
import {
  PEER_STATES,
  type DriverStatusReport,
  type FrrObserved,
  type FrrPeerObserved,
  type PeerState,
} from '@qnet/contracts';
import { Outbox, type DriverObserver } from '@qnet/service';
import { BgpRepository, type PeerRow, type PeerSession } from '../speakers/bgp.repository.js';

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

function sessionOf(o: FrrPeerObserved | undefined, running: boolean, now: number): PeerSession {
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

const changed = (p: PeerRow, s: PeerSession) =>
  p.state !== s.state ||
  p.prefixes_received !== s.prefixes_received ||
  p.prefixes_sent !== s.prefixes_sent ||
  p.last_error !== s.last_error ||
  (p.established_at === null) !== (s.established_at === null) ||
  (p.established_at !== null &&
    Math.abs(p.established_at.getTime() - s.established_at!.getTime()) > UPTIME_SLACK_MS);

/** What nodes' agents observe: whether FRR runs, per-peer sessions and originated prefixes. */
@Injectable()
export class SessionStatusService implements DriverObserver {
  constructor(
    private readonly repo: BgpRepository,
    private readonly outbox: Outbox,
  ) {}

  async observe(report: DriverStatusReport): Promise<void> {
    const observed = report.observed as FrrObserved | undefined;
    const running = typeof observed?.running === 'boolean' ? observed.running : null;
    await this.outbox.transaction(async (tx, out) => {
      await this.repo.recordFrrRunning(tx, report.host_id, running);
      if (!observed || !Array.isArray(observed.peers)) return;
      const speaker = await this.repo.speakerOnNode(tx, report.host_id);
      if (!speaker) return;
      await this.repo.recordActive(tx, speaker.id, observed.local_prefixes ?? []);
      const byAddress = new Map(observed.peers.map((p) => [p.address, p]));
      const now = Date.now();
      for (const p of await this.repo.peers(tx, speaker.id)) {
        const s = sessionOf(byAddress.get(p.peer_address), observed.running, now);
        if (!changed(p, s)) continue;
        await this.repo.recordSession(tx, p.id, s);
        if (p.state !== s.state)
          out.event({
            resource: 'peer',
            event: 'state_changed',
            id: p.id,
            project: speaker.project_id,
            data: {
              speaker_id: p.speaker_id,
              peer_address: p.peer_address,
              from: p.state,
              to: s.state,
            },
          });
      }
    });
  }
}
