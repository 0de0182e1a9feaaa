import type { Capability, HostView, LbProvider } from '@qnet/contracts';
import type { PlacementRule } from '@qnet/service';

/** The capability each provider's driver needs on its host. */
export const PROVIDER_CAPABILITY: Record<LbProvider, Capability> = {
  nftables: 'nftables',
  ovn: 'ovn_nb',
};

const WHY: Record<LbProvider, string> = {
  nftables: 'has no nftables (nft)',
  ovn: 'has no OVN northbound database configured (OVN_NB_DB) or no ovn-nbctl',
};

export function providerRule(
  provider: LbProvider,
  countsOf: (hostIds: string[]) => Promise<Map<string, number>>,
  exclude?: string[],
): PlacementRule {
  return {
    capable: (h: HostView) => h.capabilities.includes(PROVIDER_CAPABILITY[provider]),
    lacks: WHY[provider],
    countsOf,
    ...(exclude ? { exclude } : {}),
  };
}
