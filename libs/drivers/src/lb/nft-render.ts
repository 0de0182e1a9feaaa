import type { LbMemberRealization, LbRealization, LbSpec, MemberHealth } from '@qnet/contracts';

/** The table the nftables LB driver owns on its host. */
export const LB_TABLE = { family: 'inet', name: 'qnet_lb' } as const;
/**
 * The device that holds the VIPs of the load balancers placed on this host: a bridge without
 * ports (the kernels QuantumNet runs on need not have the dummy device type).
 */
export const VIP_DEVICE = 'qnlb0';
/** SOURCE_IP's hash seed: fixed, so a source keeps its backend across table rewrites. */
const HASH_SEED = '0x51e7';

/** What the agent knows live about members: probe results and connections (from conntrack). */
export interface MemberLiveState {
  health: Map<string, MemberHealth>;
  /** Active connections per member id. */
  connections: Map<string, number>;
}

const isV6 = (address: string) => address.includes(':');
const family = (address: string) => (isV6(address) ? 'ip6' : 'ip');
const target = (m: LbMemberRealization) =>
  `${isV6(m.address) ? `[${m.address}]` : m.address} . ${m.port}`;

/** Members taking new connections: enabled (the spec holds no others) and not failing checks. */
export function inRotation(lb: LbRealization, live: MemberLiveState): LbMemberRealization[] {
  return lb.members.filter((m) => live.health.get(m.id) !== 'OFFLINE');
}

/**
 * LEAST_CONNECTIONS: the members with the fewest active connections per unit of weight, as last
 * observed; new connections rotate among them until the next observation (at least every second).
 */
export function leastLoaded(
  members: LbMemberRealization[],
  connections: Map<string, number>,
): LbMemberRealization[] {
  const load = (m: LbMemberRealization) => (connections.get(m.id) ?? 0) / m.weight;
  const min = Math.min(...members.map(load));
  return members.filter((m) => load(m) <= min + 1e-9);
}

/** `0-4 : a . p, 5-7 : b . p`: each member's share of `mod total` is its weight. */
function weightedMap(members: LbMemberRealization[]): { total: number; map: string } {
  let next = 0;
  const entries = members.map((m) => {
    const lo = next;
    next += m.weight;
    const key = m.weight === 1 ? `${lo}` : `${lo}-${next - 1}`;
    return `${key} : ${target(m)}`;
  });
  return { total: next, map: entries.join(', ') };
}

function rotationMap(members: LbMemberRealization[]): string {
  return members.map((m, i) => `${i} : ${target(m)}`).join(', ');
}

/** The DNAT expression choosing a backend by the load balancer's algorithm. */
export function chooser(lb: LbRealization, members: LbMemberRealization[], live: MemberLiveState) {
  const f = family(lb.vip);
  switch (lb.algorithm) {
    case 'ROUND_ROBIN':
      return `numgen inc mod ${members.length} map { ${rotationMap(members)} }`;
    case 'LEAST_CONNECTIONS': {
      const least = leastLoaded(members, live.connections);
      return `numgen inc mod ${least.length} map { ${rotationMap(least)} }`;
    }
    case 'WEIGHTED': {
      const { total, map } = weightedMap(members);
      return `numgen random mod ${total} map { ${map} }`;
    }
    case 'SOURCE_IP': {
      const { total, map } = weightedMap(members);
      return `jhash ${f} saddr mod ${total} seed ${HASH_SEED} map { ${map} }`;
    }
  }
}

function listenerRules(lb: LbRealization, live: MemberLiveState): string[] {
  const f = family(lb.vip);
  const members = inRotation(lb, live);
  return lb.listeners.map((l) => {
    const match = `${f} daddr ${lb.vip} ${l.protocol.toLowerCase()} dport ${l.port}`;
    // No backend left: refuse new connections at once rather than let them time out.
    if (!members.length)
      return `${match} reject${l.protocol === 'TCP' ? ' with tcp reset' : ''} comment "down:${lb.id}"`;
    return `${match} dnat ${f} to ${chooser(lb, members, live)}`;
  });
}

/** Named counters: per LB bytes in (in_…) and out (out_…), per member new connections (m_…). */
export const counterName = (kind: 'in' | 'out' | 'm', id: string) =>
  `${kind}_${id.replaceAll('-', '')}`;

const counterObjects = (lbs: LbRealization[]) =>
  lbs.flatMap((b) => [
    counterName('in', b.id),
    counterName('out', b.id),
    ...b.members.map((m) => counterName('m', m.id)),
  ]);

/**
 * Counting rules of one LB: bytes each way, and one map from backend to its counter (a rule per
 * member would make a 1,000-member table several times slower to load).
 */
function counterRules(lb: LbRealization): string[] {
  const f = family(lb.vip);
  const orig = `ct status dnat ct original ${f} daddr ${lb.vip}`;
  const perMember = lb.members.map((m) => `${target(m)} : "${counterName('m', m.id)}"`).join(', ');
  return [
    `${orig} ct direction original counter name "${counterName('in', lb.id)}"`,
    `${orig} ct direction reply counter name "${counterName('out', lb.id)}"`,
    ...(lb.members.length
      ? [`ct state new ${orig} counter name ${f} daddr . th dport map { ${perMember} }`]
      : []),
  ];
}

const chain = (name: string, hook: string, rules: string[]) =>
  `  chain ${name} {\n    ${hook}\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;

/**
 * The body of the `inet qnet_lb` table: DNAT of each listener to the chosen backend, masquerade
 * of balanced connections (so replies come back through this host whichever segment the backend
 * is on), and counters per LB and per member. '' when there is nothing to balance.
 */
export function renderLbTable(spec: LbSpec, live: MemberLiveState): string {
  const lbs = spec.load_balancers.filter((b) => b.listeners.length);
  if (!lbs.length) return '';
  const vips = (v6: boolean) => lbs.filter((b) => isV6(b.vip) === v6).map((b) => b.vip);
  const masquerade = [false, true]
    .filter((v6) => vips(v6).length)
    .map(
      (v6) =>
        `ct status dnat ct original ${v6 ? 'ip6' : 'ip'} daddr { ${vips(v6).join(', ')} } masquerade`,
    );
  return (
    counterObjects(lbs)
      .map((c) => `  counter ${c} {\n  }\n`)
      .join('') +
    chain(
      'prerouting',
      'type nat hook prerouting priority dstnat; policy accept;',
      lbs.flatMap((b) => listenerRules(b, live)),
    ) +
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', masquerade) +
    chain(
      'forward',
      'type filter hook forward priority filter; policy accept;',
      lbs.flatMap(counterRules),
    )
  );
}
