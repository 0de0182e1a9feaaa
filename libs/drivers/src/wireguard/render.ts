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

/** `ip daddr { … }` / `ip6 daddr { … }` matches, one per family present. */
function byFamily(field: 'saddr' | 'daddr', cidrs: string[]): string[] {
  const v4 = cidrs.filter((c) => ipFamily(c.split('/')[0]!) === 4);
  const v6 = cidrs.filter((c) => ipFamily(c.split('/')[0]!) === 6);
  return [
    ...(v4.length ? [`ip ${field} ${set(v4)}`] : []),
    ...(v6.length ? [`ip6 ${field} ${set(v6)}`] : []),
  ];
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
    const gatewayMatch = `${pool.family === 4 ? 'ip' : 'ip6'} daddr ${gateway}`;
    for (const m of byFamily('daddr', x.local_subnets)) {
      forward.push(`${dev} ${m} accept`);
      input.push(`${dev} ${m} accept`);
      nat.push(
        `${pool.family === 4 ? 'ip' : 'ip6'} saddr ${pool.text} ${m} oifname != "${x.name}" masquerade`,
      );
    }
    forward.push(`${dev} drop`);
    input.push(`${dev} ${gatewayMatch} accept`, `${dev} drop`);
  }
  const chain = (name: string, hook: string, rules: string[]) =>
    `  chain ${name} {\n    ${hook}\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
  return (
    chain('forward', 'type filter hook forward priority filter; policy accept;', forward) +
    chain('input', 'type filter hook input priority filter; policy accept;', input) +
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', nat)
  );
}
