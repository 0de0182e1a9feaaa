import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest, registryHost } from '@qnet/bus';
import {
  MAX_PAGE_SIZE,
  QnetError,
  RegistryHostRpc,
  type HostView,
  type ListHostsResponse,
} from '@qnet/contracts';

const canRunWireguard = (h: HostView) =>
  h.capabilities.includes('wireguard_kernel') || h.capabilities.includes('wireguard_go');

/**
 * The gateway host: the one asked for, if it is healthy and can run WireGuard (412 otherwise), or
 * the healthy WireGuard-capable host with the fewest gateways.
 */
export async function placeGateway(
  nc: NatsConnection,
  countsOf: (hostIds: string[]) => Promise<Map<string, number>>,
  requested?: string,
): Promise<string> {
  if (requested) {
    const host = await registryHost(nc, requested, 'host_id');
    const why = !canRunWireguard(host)
      ? 'has neither the WireGuard kernel module nor wireguard-go'
      : host.health !== 'healthy'
        ? `is ${host.health}`
        : undefined;
    if (why)
      throw new QnetError('failed_precondition', `host_id: host ${requested} ${why}`, [
        { field: 'host_id', message: why },
      ]);
    return requested;
  }
  const candidates: string[] = [];
  let token = '';
  do {
    const page = await busRequest<ListHostsResponse>(nc, RegistryHostRpc.ListHosts.subject, {
      health: 'healthy',
      page_size: MAX_PAGE_SIZE,
      ...(token ? { page_token: token } : {}),
    });
    candidates.push(...page.hosts.filter(canRunWireguard).map((h) => h.id));
    token = page.next_page_token;
  } while (token);
  if (!candidates.length)
    throw new QnetError(
      'failed_precondition',
      'host_id: no healthy host has WireGuard (kernel module or wireguard-go); name one with host_id once there is',
      [{ field: 'host_id', message: 'no healthy WireGuard-capable host' }],
    );
  const counts = await countsOf(candidates);
  return candidates.sort(
    (a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a.localeCompare(b),
  )[0]!;
}
