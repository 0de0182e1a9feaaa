import type { HealthCheckView, LbAlgorithm, LbProtocol, MemberHealth } from '../lb/lb.js';

/**
 * Desired state of the node agent's `lb_nft` or `lb_ovn` driver for one host, rendered by the lb
 * service (full state): every load balancer placed there, with its enabled members.
 */
export interface LbSpec {
  load_balancers: LbRealization[];
}

export interface LbRealization {
  id: string;
  vip: string;
  algorithm: LbAlgorithm;
  /** The VIP's network: the nftables driver announces the VIP on interfaces inside it. */
  network_cidr: string;
  /** OVN: the logical switch the load balancer is attached to (the registry network's name). */
  logical_switch: string;
  listeners: { port: number; protocol: LbProtocol }[];
  members: LbMemberRealization[];
  health_check?: LbHealthCheckRealization;
}

/** A health check as the agent gets it: payloads leave absent fields out (no nulls on the bus). */
export type LbHealthCheckRealization = Omit<HealthCheckView, 'port'> & {
  /** Probe this port instead of each member's own. */
  port?: number;
};

export interface LbMemberRealization {
  id: string;
  address: string;
  port: number;
  weight: number;
  logical_port?: string;
}

/** What the agent reports on qnet.agent.<host>.status.lb_nft|lb_ovn (observed). */
export interface LbObserved {
  load_balancers: LbObservedBalancer[];
}

export interface LbObservedBalancer {
  id: string;
  bytes_in: number;
  bytes_out: number;
  members: LbObservedMember[];
}

export interface LbObservedMember {
  id: string;
  health: MemberHealth;
  active_connections: number;
  total_connections: number;
}
