import type { WireguardInterface } from '@qnet/contracts';
import { ipFamily, parseCidr } from '@qnet/netaddr';

/** The document `wg syncconf <if> /dev/stdin` reads: keys, port and peers, nothing wg-quick-only. */
export function renderWgConf(x: WireguardInterface): string {
  const lines = ['[Interface]', `PrivateKey = ${x.private_key}`, `ListenPort = ${x.listen_port}`];
  for (const p of x.peers) {
    lines.push('', '[Peer]', `PublicKey = ${p.public_key}`);
    if (p.preshared_key) lines.push(`PresharedKey = ${p.preshared_key}`);
    lines.push(`AllowedIPs = ${p.allowed_ip}`);
  }
  return lines.join('\n') + '\n';
}

const set = (items: string[]) => `{ ${items.join(', ')} }`;

const PROTO = { 4: 'ip', 6: 'ip6' } as const;

/** `ip daddr { … }` / `ip6 daddr { … }`, one per family present. */
function destinations(cidrs: string[]): { family: 4 | 6; match: string }[] {
  return ([4, 6] as const).flatMap((family) => {
    const of = cidrs.filter((c) => ipFamily(c.split('/')[0]!) === family);
    return of.length ? [{ family, match: `${PROTO[family]} daddr ${set(of)}` }] : [];
  });
}

/**
 * Isolation on the gateway itself (a client that widens its AllowedIPs gains nothing): what
 * arrives on a VPN interface may go only to the service's local subnets or to the gateway's own
 * address; client-to-client and everything else is dropped. Traffic to the local subnets leaves
 * masqueraded, so the VMs need no route back to the client pool.
 */
export function renderVpnTableBody(interfaces: WireguardInterface[]): string {
  if (!interfaces.length) return '';
  const forward: string[] = [];
  const input: string[] = [];
  const nat: string[] = [];
  for (const x of interfaces) {
    const dev = `iifname "${x.name}"`;
    const gateway = x.address.split('/')[0]!;
    const pool = parseCidr(x.address, false);
    for (const { family, match } of destinations(x.local_subnets)) {
      forward.push(`${dev} ${match} accept`);
      input.push(`${dev} ${match} accept`);
      // Clients have addresses of the pool's family only: a rule can never mix ip and ip6.
      if (family === pool.family)
        nat.push(`${PROTO[family]} saddr ${pool.text} ${match} oifname != "${x.name}" masquerade`);
    }
    forward.push(`${dev} drop`);
    input.push(`${dev} ${PROTO[pool.family]} daddr ${gateway} accept`, `${dev} drop`);
  }
  const chain = (name: string, hook: string, rules: string[]) =>
    `  chain ${name} {\n    ${hook}\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
  return (
    chain('forward', 'type filter hook forward priority filter; policy accept;', forward) +
    chain('input', 'type filter hook input priority filter; policy accept;', input) +
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', nat)
  );
}
