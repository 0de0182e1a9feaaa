/** What an agent probes on its host and reports with every registration and heartbeat. */
export const CAPABILITIES = [
  'bridge',
  'vxlan',
  'vlan_filtering',
  'nftables',
  'ovn_nbctl',
  'frr',
  'wireguard_kernel',
  'wireguard_go',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export const AGENT_MODES = ['host', 'netns', 'dry-run'] as const;
export type AgentMode = (typeof AGENT_MODES)[number];
