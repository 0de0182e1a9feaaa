import type { NatsConnection } from '@nats-io/transport-node';
import {
  MAX_PAGE_SIZE,
  QnetError,
  RegistryHostRpc,
  type HostView,
  type ListHostsResponse,
} from '@qnet/contracts';
import { busRequest } from './client.js';
import { registryHost } from './registry-lookups.js';

export interface PlacementRule {
  /** Whether a host can run the work. */
  capable: (h: HostView) => boolean;
  /** What capable means, for errors: "has neither … nor …". */
  lacks: string;
  /** Load per candidate host: the least loaded wins (ties by id). */
  countsOf: (hostIds: string[]) => Promise<Map<string, number>>;
  /** Hosts not to choose (the one being left in a failover). */
  exclude?: string[];
}

/** Every healthy host the rule accepts, walking the registry's pages. */
export async function capableHealthyHosts(nc: NatsConnection, rule: PlacementRule) {
  const found: string[] = [];
  let token = '';
  do {
    const page = await busRequest<ListHostsResponse>(nc, RegistryHostRpc.ListHosts.subject, {
      health: 'healthy',
      page_size: MAX_PAGE_SIZE,
      ...(token ? { page_token: token } : {}),
    });
    found.push(
      ...page.hosts
        .filter((h) => rule.capable(h) && !rule.exclude?.includes(h.id))
        .map((h) => h.id),
    );
    token = page.next_page_token;
  } while (token);
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
