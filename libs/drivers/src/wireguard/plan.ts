import { WIREGUARD_NFT_TABLE, type WireguardInterface, type WireguardSpec } from '@qnet/contracts';
import { ipFamily } from '@qnet/netaddr';
import { DOCUMENT, type Change } from '../driver.js';
import { planForwarding, type Forwarding } from '../forwarding.js';
import { planTable, type OwnedTable } from '../nft.js';
import type { ObservedWgInterface } from './observed.js';
import { planPeers } from './peers.js';
import { renderVpnTableBody, renderWgConf } from './render.js';

export const VPN_TABLE: OwnedTable = { family: 'inet', name: WIREGUARD_NFT_TABLE };

export interface WireguardObservedHost {
  interfaces: ObservedWgInterface[];
  /** The kernel has WireGuard; otherwise interfaces are wireguard-go processes. */
  kernel: boolean;
  forwarding: Forwarding;
  /** Fingerprint of the agent's nftables table; undefined when it does not exist. */
  table: string | undefined;
}

/**
 * A gateway configured whole when it is created; after that only what differs — its key or port,
 * and the peers that come, go or change (planPeers) — so one client's change never touches
 * another client's session.
 */
function planDevice(x: WireguardInterface, o: ObservedWgInterface | undefined): Change[] {
  if (!o) return [{ argv: ['wg', 'syncconf', x.name, DOCUMENT], document: renderWgConf(x) }];
  const changes: Change[] = [];
  if (x.private_key !== o.private_key || x.listen_port !== o.listen_port)
    changes.push({
      argv: ['wg', 'set', x.name, 'private-key', DOCUMENT, 'listen-port', String(x.listen_port)],
      document: x.private_key,
    });
  const peers = x.peers.map((p) => ({
    public_key: p.public_key,
    ...(p.preshared_key ? { preshared_key: p.preshared_key } : {}),
    allowed_ips: [p.allowed_ip],
  }));
  return [...changes, ...planPeers(x.name, o.peers, peers)];
}

/** Desired interfaces against the host. */
export function planWireguard(spec: WireguardSpec, observed: WireguardObservedHost): Change[] {
  const changes: Change[] = [];
  const wanted = new Set(spec.interfaces.map((x) => x.name));
  for (const o of observed.interfaces)
    if (!wanted.has(o.name)) changes.push(['ip', 'link', 'del', 'dev', o.name]);

  for (const x of spec.interfaces) {
    const o = observed.interfaces.find((i) => i.name === x.name);
    if (!o)
      changes.push(
        observed.kernel
          ? ['ip', 'link', 'add', x.name, 'type', 'wireguard']
          : ['wireguard-go', x.name],
      );
    changes.push(...planDevice(x, o));
    for (const a of o?.addresses ?? [])
      if (a !== x.address) changes.push(['ip', 'address', 'del', a, 'dev', x.name]);
    if (!o?.addresses.includes(x.address))
      changes.push(['ip', 'address', 'replace', x.address, 'dev', x.name]);
    if (!o?.up) changes.push(['ip', 'link', 'set', 'dev', x.name, 'up']);
  }

  const families = new Set(
    spec.interfaces.flatMap((x) => x.local_subnets.map((c) => ipFamily(c.split('/')[0]!))),
  );
  changes.push(
    ...planForwarding({ v4: families.has(4), v6: families.has(6) }, observed.forwarding),
  );

  changes.push(...planTable(VPN_TABLE, renderVpnTableBody(spec.interfaces), observed.table));
  return changes;
}
