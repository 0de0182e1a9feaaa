import type { LbSpec } from '@qnet/contracts';

/**
 * Active connections per member from `conntrack -L`: entries whose original destination is the
 * member's VIP and whose reply comes from the member (TCP: ESTABLISHED only; UDP: every flow).
 */
export function connectionsPerMember(conntrack: string, spec: LbSpec): Map<string, number> {
  const byFlow = new Map<string, string>();
  for (const lb of spec.load_balancers)
    for (const m of lb.members) byFlow.set(`${lb.vip}|${m.address}|${m.port}`, m.id);
  const counts = new Map<string, number>();
  for (const line of conntrack.split('\n')) {
    const proto = /\b(tcp|udp)\b/.exec(line)?.[1];
    if (!proto) continue;
    if (proto === 'tcp' && !/\bESTABLISHED\b/.test(line)) continue;
    const src = [...line.matchAll(/\bsrc=(\S+)/g)].map((x) => x[1]);
    const dst = [...line.matchAll(/\bdst=(\S+)/g)].map((x) => x[1]);
    const sport = [...line.matchAll(/\bsport=(\d+)/g)].map((x) => x[1]);
    // Original direction first, then the reply: [vip ← client], [client ← member:port].
    const member = byFlow.get(`${dst[0]}|${src[1]}|${sport[1]}`);
    if (member) counts.set(member, (counts.get(member) ?? 0) + 1);
  }
  return counts;
}
