import type { NatsConnection } from '@nats-io/transport-node';
import { allPages, registryHost } from '@qnet/service';
import { QnetError, RegistryNetworkRpc } from '@qnet/contracts';
import { cidrContainsCidr, parseCidr, type Cidr } from '@qnet/netaddr';

/** The registry's host for node_id: 404 if unknown, 412 if its agent has no FRR. */
export async function checkNode(nc: NatsConnection, nodeId: string): Promise<void> {
  const host = await registryHost(nc, nodeId, 'node_id');
  if (!host.capabilities.includes('frr'))
    throw new QnetError('failed_precondition', `node_id: host ${nodeId} has no FRRouting`, [
      { field: 'node_id', message: 'the host has no FRRouting (vtysh, bgpd)' },
    ]);
}

/**
 * Seed 000's "only advertise expected prefixes": a speaker may advertise a prefix inside one of
 * its project's registry networks, or inside the admin allow-list (BGP_ALLOWED_PREFIXES).
 */
export class RouteFilter {
  private readonly allowList: Cidr[];

  constructor(allowList: string) {
    this.allowList = allowList
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        try {
          return parseCidr(s);
        } catch {
          throw new Error(`BGP_ALLOWED_PREFIXES: ${s} is not a canonical CIDR`);
        }
      });
  }

  async check(nc: NatsConnection, projectId: string, prefix: string): Promise<void> {
    const p = parseCidr(prefix);
    if (this.allowList.some((c) => cidrContainsCidr(c, p))) return;
    for await (const page of allPages(nc, RegistryNetworkRpc.ListNetworks, {
      project_id: projectId,
    }))
      if (page.networks.some((n) => n.cidr && cidrContainsCidr(parseCidr(n.cidr, false), p)))
        return;
    throw new QnetError(
      'failed_precondition',
      `prefix: ${prefix} is inside no network of project ${projectId} and not in the BGP allow-list`,
      [{ field: 'prefix', message: 'not inside a registered network of the project' }],
    );
  }
}
