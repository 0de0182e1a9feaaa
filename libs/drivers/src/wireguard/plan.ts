import { WIREGUARD_NFT_TABLE, type WireguardInterface, type WireguardSpec } from '@qnet/contracts';
import { ipFamily } from '@qnet/netaddr';
import { DOCUMENT, type Change } from '../driver.js';
import { planForwarding, type Forwarding } from '../forwarding.js';
import { planTable, type OwnedTable } from '../nft.js';
import type { ObservedWgInterface } from './observed.js';
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

const peerKey = (p: { public_key: string; preshared_key?: string; allowed_ip: string }) =>
  `${p.public_key}|${p.preshared_key ?? ''}|${p.allowed_ip}`;

function sameConfig(x: WireguardInterface, o: ObservedWgInterface): boolean {
  if (x.private_key !== o.private_key || x.listen_port !== o.listen_port) return false;
  const want = new Set(x.peers.map(peerKey));
  const have = o.peers.map((p) => peerKey({ ...p, allowed_ip: p.allowed_ips.join(',') }));
  return have.length === want.size && have.every((k) => want.has(k));
}

/**
 * Desired interfaces against the host. Peers change through `wg syncconf`, which applies only the
 * difference: adding, removing or re-keying one peer leaves every other session untouched.
 */
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
    if (!o || !sameConfig(x, o))
      changes.push({ argv: ['wg', 'syncconf', x.name, DOCUMENT], document: renderWgConf(x) });
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
