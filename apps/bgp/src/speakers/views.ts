import type {
  BgpAdvertisementView,
  BgpPeerView,
  BgpSpeakerView,
  SpeakerPhase,
} from '@qnet/contracts';
import type { AdvertisementRow, PeerRow, SpeakerRow } from './bgp.repository.js';

/** Seed 001's phase: error wins (failed apply, FRR not answering), then pending until applied. */
export function phaseOf(s: SpeakerRow): { phase: SpeakerPhase; error_message: string } {
  if (s.error) return { phase: 'error', error_message: s.error };
  if (Number(s.applied) < Number(s.generation)) return { phase: 'pending', error_message: '' };
  if (s.frr_running === false)
    return { phase: 'error', error_message: `FRR (bgpd) is not answering on node ${s.node_id}` };
  return { phase: 'active', error_message: '' };
}

export function speakerView(s: SpeakerRow): BgpSpeakerView {
  return {
    id: s.id,
    name: s.name,
    project_id: s.project_id,
    description: s.description,
    labels: s.labels,
    node_id: s.node_id,
    local_asn: s.local_asn,
    router_id: s.router_id,
    status: { ...phaseOf(s), established_peers: s.established_peers },
    created_at: s.created_at.toISOString(),
    updated_at: s.updated_at.toISOString(),
  };
}

/** Seed 000's uptime form: 2h35m, 3d4h, 45s. */
export function uptimeText(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d) return `${d}d${h}h`;
  if (h) return `${h}h${m}m`;
  if (m) return `${m}m${seconds % 60}s`;
  return `${seconds}s`;
}

export const uptimeSeconds = (p: PeerRow, now = Date.now()): number =>
  p.state === 'ESTABLISHED' && p.established_at
    ? Math.max(0, Math.floor((now - p.established_at.getTime()) / 1000))
    : 0;

export function peerView(p: PeerRow, now = Date.now()): BgpPeerView {
  const up = uptimeSeconds(p, now);
  return {
    id: p.id,
    speaker_id: p.speaker_id,
    name: p.name,
    peer_address: p.peer_address,
    peer_asn: p.peer_asn,
    hold_time: p.hold_time ?? 0,
    keepalive_interval: p.keepalive_interval ?? 0,
    bfd: p.bfd,
    max_prefixes: p.max_prefixes ?? 0,
    has_password: p.password_sealed !== null,
    status: {
      state: p.state,
      prefixes_received: p.prefixes_received,
      prefixes_sent: p.prefixes_sent,
      uptime: p.state === 'ESTABLISHED' ? uptimeText(up) : '',
      uptime_seconds: up,
      last_error: p.last_error,
    },
    created_at: p.created_at.toISOString(),
  };
}

export function advertisementView(a: AdvertisementRow): BgpAdvertisementView {
  return {
    id: a.id,
    speaker_id: a.speaker_id,
    prefix: a.prefix,
    next_hop: a.next_hop ?? '',
    communities: a.communities,
    // FRR's default local preference when none is set.
    local_pref: a.local_pref ?? 100,
    active: a.active,
    created_at: a.created_at.toISOString(),
  };
}
