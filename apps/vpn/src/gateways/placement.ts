import type { NatsConnection } from '@nats-io/transport-node';
import { placeOnHost } from '@qnet/service';
import type { HostView } from '@qnet/contracts';

const canRunWireguard = (h: HostView) =>
  h.capabilities.includes('wireguard_kernel') || h.capabilities.includes('wireguard_go');

/**
 * The gateway host: the one asked for, if it is healthy and can run WireGuard (412 otherwise), or
 * the healthy WireGuard-capable host with the fewest gateways; a host-local network's own host.
 */
export function placeGateway(
  nc: NatsConnection,
  countsOf: (hostIds: string[]) => Promise<Map<string, number>>,
  requested: string | undefined,
  only: string | null,
): Promise<string> {
  return placeOnHost(
    nc,
    {
      capable: canRunWireguard,
      lacks: 'has neither the WireGuard kernel module nor wireguard-go',
      countsOf,
      only,
    },
    requested,
  );
}
