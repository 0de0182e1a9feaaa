/**
 * Desired state of the node agent's `frr` driver for one host, rendered by the bgp service (full
 * state). It carries MD5 passwords: it travels only on the host's own command subject and its
 * inbox, and the agent hands it to frr-reload.py in a 0600 file — never on a command line.
 */
export interface FrrSpec {
  /** Absent: this node speaks no BGP and the agent removes FRR's BGP configuration. */
  speaker?: FrrSpeaker;
}

export interface FrrSpeaker {
  local_asn: number;
  router_id: string;
  peers: FrrPeer[];
  advertisements: FrrAdvertisement[];
}

export interface FrrPeer {
  address: string;
  asn: number;
  description?: string;
  password?: string;
  /** Both or neither: `neighbor … timers <keepalive> <hold>`. */
  keepalive?: number;
  hold_time?: number;
  bfd: boolean;
  max_prefixes?: number;
}

export interface FrrAdvertisement {
  prefix: string;
  next_hop?: string;
  communities: string[];
  local_pref?: number;
}

/** What the agent reports on qnet.agent.<host>.status.frr (observed), read from vtysh's JSON. */
export interface FrrObserved {
  /** False when bgpd did not answer (not running, or no `router bgp` configured). */
  running: boolean;
  peers: FrrPeerObserved[];
  /** Prefixes this node originates that are in its BGP table (valid paths). */
  local_prefixes: string[];
}

export interface FrrPeerObserved {
  address: string;
  /** FRR's FSM state: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  prefixes_received: number;
  prefixes_sent: number;
  /** Milliseconds in the current state when Established, else 0. */
  uptime_ms: number;
  connections_established: number;
  /** FRR's reason for the last reset, '' when there was none. */
  last_reset: string;
}
