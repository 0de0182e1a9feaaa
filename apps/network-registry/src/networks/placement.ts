import { QnetError, type Capability, type NetworkType } from '@qnet/contracts';

/** What a network's type requires of the hosts it is placed on (docs/architecture.md, "Node agent"). */
export function requiredCapability(
  type: NetworkType,
  vlanId: number | null,
): Capability | undefined {
  if (type === 'overlay') return 'vxlan';
  return vlanId !== null ? 'vlan_filtering' : undefined;
}

/** 412 unless a host with `capabilities` can carry a network that needs `needed`. */
export function assertCapable(
  hostId: string,
  capabilities: Capability[],
  needed: Capability | undefined,
  field: string,
): void {
  if (needed && !capabilities.includes(needed))
    throw new QnetError('failed_precondition', `host ${hostId} lacks ${needed}`, [
      { field, message: `host lacks ${needed}` },
    ]);
}

/**
 * 412 unless the host last reported an interface of the uplink's name (interfaces null: unknown,
 * as from a dry-run agent; the agent's apply then says whether it is there).
 */
export function assertUplink(
  hostId: string,
  interfaces: string[] | null,
  uplink: string,
  field: string,
): void {
  if (interfaces && !interfaces.includes(uplink))
    throw new QnetError('failed_precondition', `host ${hostId} lacks interface ${uplink}`, [
      { field, message: `host ${hostId} lacks interface ${uplink}` },
    ]);
}

export function hostNotRegistered(hostId: string, field: string): QnetError {
  return new QnetError('not_found', `host ${hostId} is not registered`, [
    { field, message: `host ${hostId} is not registered` },
  ]);
}
