import type { NatsConnection } from '@nats-io/transport-node';
import { QnetError, RegistryHostRpc, type HostView } from '@qnet/contracts';
import { registryHost } from './lookups.js';
import { allPages } from './pages.js';

export interface PlacementRule {
  /** Whether a host can run the work. */
  capable: (h: HostView) => boolean;
  /** What capable means, for errors: "has neither … nor …". */
  lacks: string;
  /** Load per candidate host: the least loaded wins (ties by id). */
  countsOf: (hostIds: string[]) => Promise<Map<string, number>>;
  /** Hosts not to choose (the one being left in a failover). */
  exclude?: string[];
  /** The only host that can do it: a host-local network's host (no other host reaches it). */
  only?: string | null;
}

/** Every healthy host the rule accepts, walking the registry's pages. */
export async function capableHealthyHosts(nc: NatsConnection, rule: PlacementRule) {
  const found: string[] = [];
  for await (const page of allPages(nc, RegistryHostRpc.ListHosts, { health: 'healthy' }))
    for (const h of page.hosts)
      if (rule.capable(h) && !rule.exclude?.includes(h.id) && (!rule.only || h.id === rule.only))
        found.push(h.id);
  return found;
}

/**
 * The host for a piece of work: the one asked for (in `host_id`), if it is healthy and capable
 * (412 otherwise), or the least loaded healthy capable host.
 */
export async function placeOnHost(
  nc: NatsConnection,
  rule: PlacementRule,
  requested?: string,
): Promise<string> {
  if (requested && rule.only && requested !== rule.only)
    throw new QnetError(
      'failed_precondition',
      `host_id: the network lives on host ${rule.only} only; ${requested} cannot reach it`,
      [{ field: 'host_id', message: `the network lives on host ${rule.only}` }],
    );
  if (requested) {
    const host = await registryHost(nc, requested, 'host_id');
    const why = !rule.capable(host)
      ? rule.lacks
      : host.health !== 'healthy'
        ? `is ${host.health}`
        : undefined;
    if (why)
      throw new QnetError('failed_precondition', `host_id: host ${requested} ${why}`, [
        { field: 'host_id', message: why },
      ]);
    return requested;
  }
  const candidates = await capableHealthyHosts(nc, rule);
  if (!candidates.length)
    throw new QnetError(
      'failed_precondition',
      `host_id: no healthy host qualifies (each ${rule.lacks}, or is not healthy); name one with host_id once there is`,
      [{ field: 'host_id', message: 'no healthy capable host' }],
    );
  const counts = await rule.countsOf(candidates);
  return candidates.sort(
    (a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a.localeCompare(b),
  )[0]!;
}
