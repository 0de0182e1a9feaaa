import type { FrrObserved, FrrPeerObserved } from '@qnet/contracts';

const IGNORED = [
  /^!/,
  /^frr (version|defaults) /,
  /^hostname /,
  /^log /,
  /^service integrated-vtysh-config$/,
  /^line vty$/,
  /^exit(-address-family)?$/,
  /^end$/,
  /^Building configuration/,
  /^Current configuration:/,
];

/** Node-wide settings FRR holds that are not BGP's: a reload keeps them as they are. */
const KEPT = /^(no )?ipv?6? ?forwarding$/;

export interface RunningConfig {
  /** Every configuration line qualified by its enclosing blocks, sorted: order-insensitive. */
  lines: string[];
  /** Top-level lines (like `no ip forwarding`) the rendered configuration repeats verbatim. */
  kept: string[];
}

/**
 * `show running-config` (or a rendered frr.conf) as a set of block-qualified lines, so that two
 * configurations compare equal when FRR would hold the same thing whatever the order.
 */
export function parseRunningConfig(text: string): RunningConfig {
  const stack: { indent: number; line: string }[] = [];
  const lines: string[] = [];
  const kept: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (!line || IGNORED.some((re) => re.test(line))) continue;
    const indent = raw.length - raw.trimStart().length;
    while (stack.length && stack[stack.length - 1]!.indent >= indent) stack.pop();
    if (!stack.length && KEPT.test(line)) {
      kept.push(line);
      continue;
    }
    lines.push([...stack.map((s) => s.line), line].join(' > '));
    stack.push({ indent, line });
  }
  return { lines: lines.sort(), kept };
}

type Json = Record<string, unknown>;
const objectAt = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const numberAt = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const stringAt = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Peers from `show bgp neighbors json` (state, resets) and `show bgp summary json` (prefix counts
 * per address family, summed), and locally originated prefixes from `show bgp <afi> unicast json`.
 */
export function parseFrrStatus(
  neighborsJson: string,
  summaryJson: string,
  tablesJson: string[],
): FrrObserved {
  const neighbors = objectAt(JSON.parse(neighborsJson || '{}'));
  const summary = objectAt(JSON.parse(summaryJson || '{}'));
  const counts = new Map<string, { rcvd: number; sent: number }>();
  for (const family of Object.values(summary)) {
    for (const [address, p] of Object.entries(objectAt(objectAt(family).peers))) {
      const c = counts.get(address) ?? { rcvd: 0, sent: 0 };
      c.rcvd += numberAt(objectAt(p).pfxRcd);
      c.sent += numberAt(objectAt(p).pfxSnt);
      counts.set(address, c);
    }
  }
  const peers: FrrPeerObserved[] = Object.entries(neighbors)
    .filter(([, v]) => typeof objectAt(v).bgpState === 'string')
    .map(([address, v]) => {
      const n = objectAt(v);
      const state = stringAt(n.bgpState);
      return {
        address,
        state,
        prefixes_received: counts.get(address)?.rcvd ?? 0,
        prefixes_sent: counts.get(address)?.sent ?? 0,
        uptime_ms: state === 'Established' ? numberAt(n.bgpTimerUpMsec) : 0,
        connections_established: numberAt(n.connectionsEstablished),
        last_reset: stringAt(n.lastResetDueTo),
      };
    });
  const local = new Set<string>();
  for (const t of tablesJson) {
    for (const [prefix, paths] of Object.entries(objectAt(objectAt(JSON.parse(t || '{}')).routes)))
      if (
        Array.isArray(paths) &&
        paths.some((p) => objectAt(p).peerId === '(unspec)' && objectAt(p).valid === true)
      )
        local.add(prefix);
  }
  return { running: true, peers, local_prefixes: [...local].sort() };
}

/** The JSON documents vtysh prints back to back for several `-c` commands, in order. */
export function splitJsonDocuments(text: string): string[] {
  const docs: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if ((c === '}' || c === ']') && --depth === 0) docs.push(text.slice(start, i + 1));
  }
  return docs;
}
