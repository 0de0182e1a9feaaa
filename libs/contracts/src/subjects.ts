import type { BusServiceId } from './services.js';

/**
 * Every NATS subject QuantumNet uses, in one place (README, "Bus subjects"). The README's subject table is
 * the documentation of this file.
 */
export const Subjects = {
  /** Request/reply, queue group per service. */
  rpc: (service: BusServiceId, method: string) => `qnet.rpc.${service}.${method}`,
  rpcWildcard: (service: BusServiceId) => `qnet.rpc.${service}.>`,

  /** Domain events, captured by the QNET_EVENTS JetStream stream. */
  event: (service: BusServiceId, resource: string, event: string) =>
    `qnet.evt.${service}.${resource}.${event}`,
  eventsAll: 'qnet.evt.>',

  /** Control plane → one host's agent: desired state or an operation for one driver. */
  agentCmd: (hostId: string, driver: string) => `qnet.agent.${hostId}.cmd.${driver}`,
  agentCmdAll: (hostId: string) => `qnet.agent.${hostId}.cmd.>`,
  /** Agent → control plane. The host id in the subject is the agent's identity (NATS permissions). */
  agentRegister: (hostId: string) => `qnet.agent.${hostId}.register`,
  agentHeartbeat: (hostId: string) => `qnet.agent.${hostId}.heartbeat`,
  agentStatus: (hostId: string, driver: string) => `qnet.agent.${hostId}.status.${driver}`,
  /** Agent asks for its full desired state of one driver (on start, reconnect and resync). */
  agentDesired: (hostId: string, driver: string) => `qnet.agent.${hostId}.desired.${driver}`,
  /** Agent → registry: seed 003's agent API, a TAP on a bridge of this host (and its removal). */
  agentNetCreate: (hostId: string) => `qnet.agent.${hostId}.net.create`,
  agentNetDelete: (hostId: string) => `qnet.agent.${hostId}.net.delete`,
  agentAll: (hostId: string) => `qnet.agent.${hostId}.>`,

  /** Samples, e.g. routing-server metrics every 10 s. */
  metrics: (kind: string, id: string) => `qnet.metrics.${kind}.${id}`,
  metricsWildcard: (kind: string) => `qnet.metrics.${kind}.*`,
  /** Pushed tunnel decisions for one endpoint. */
  tunnelDecision: (endpointId: string) => `qnet.tunnel.decision.${endpointId}`,
} as const;

/** Wildcard forms used by control-plane subscribers. */
export const AgentWildcards = {
  register: 'qnet.agent.*.register',
  heartbeat: 'qnet.agent.*.heartbeat',
  status: (driver: string) => `qnet.agent.*.status.${driver}`,
  desired: (driver: string) => `qnet.agent.*.desired.${driver}`,
  netCreate: 'qnet.agent.*.net.create',
  netDelete: 'qnet.agent.*.net.delete',
} as const;

/** Host id from an agent subject: qnet.agent.<hostId>.… */
export function hostIdOfSubject(subject: string): string | undefined {
  const parts = subject.split('.');
  return parts[0] === 'qnet' && parts[1] === 'agent' ? parts[2] : undefined;
}

export const EVENTS_STREAM = {
  name: 'QNET_EVENTS',
  subjects: [Subjects.eventsAll],
  /** Seven days of history for replay by late consumers. */
  maxAgeMs: 7 * 24 * 3600 * 1000,
} as const;
