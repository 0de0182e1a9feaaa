/** What an agent probes on its host and reports with every registration and heartbeat. */
export const CAPABILITIES = [
  'bridge',
  'vxlan',
  'vlan_filtering',
  'nftables',
  /** nftables' bridge family, which port security and the overlay's underlay filters use. */
  'nft_bridge',
  /** dnsmasq and dhcp_release: DHCP and DNS for a network's guests. */
  'dnsmasq',
  'ovn_nbctl',
  /** ovn-nbctl and an OVN northbound database configured (OVN_NB_DB): runs the lb_ovn driver. */
  'ovn_nb',
  'frr',
  'wireguard_kernel',
  'wireguard_go',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** At most this many interfaces are reported (a host with more reports none: unknown). */
export const MAX_REPORTED_INTERFACES = 1024;

export const AGENT_MODES = ['host', 'netns', 'dry-run'] as const;
export type AgentMode = (typeof AGENT_MODES)[number];
