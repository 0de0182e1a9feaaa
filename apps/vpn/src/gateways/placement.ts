import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest } from '@qnet/bus';
import {
  MAX_PAGE_SIZE,
  QnetError,
  RegistryHostRpc,
  RegistryNetworkRpc,
  type HostView,
  type ListHostsResponse,
  type NetworkView,
} from '@qnet/contracts';

const canRunWireguard = (h: HostView) =>
  h.capabilities.includes('wireguard_kernel') || h.capabilities.includes('wireguard_go');

/** The registry's network, or 404 naming network_id. */
export async function networkOf(nc: NatsConnection, id: string): Promise<NetworkView> {
  try {
    return await busRequest<NetworkView>(nc, RegistryNetworkRpc.GetNetwork.subject, { id });
  } catch (err) {
    if (err instanceof QnetError && err.code === 'not_found')
      throw new QnetError('not_found', `network_id: network ${id} not found`, [
        { field: 'network_id', message: 'no such network in the registry' },
      ]);
    throw err;
  }
}

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
    let host: HostView;
    try {
      host = await busRequest<HostView>(nc, RegistryHostRpc.GetHost.subject, {
        host_id: requested,
      });
    } catch (err) {
      if (err instanceof QnetError && err.code === 'not_found')
        throw new QnetError('not_found', `host_id: host ${requested} not found`, [
          { field: 'host_id', message: 'no such host in the registry' },
        ]);
      throw err;
    }
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
