import type { LbObserved, LbSpec } from '@qnet/contracts';
import { cidrContainsIp, parseCidr } from '@qnet/netaddr';
import type { Change, Driver } from '../driver.js';
import { CommandError, type Executor } from '../executor.js';
import { planForwarding, readForwarding, type Forwarding } from '../forwarding.js';
import { fingerprintOf, namedCounters, planTable, readTable } from '../nft.js';
import { HealthBook, ProbeWorker, probeTargets } from './health.js';
import {
  counterName,
  LB_TABLE,
  renderLbTable,
  VIP_DEVICE,
  type MemberLiveState,
} from './nft-render.js';
import { parseAddrLinks } from '../ip-addr.js';
import { connectionsPerMember } from './nft-observed.js';
import { parseLbSpec } from './spec.js';

export interface NftLbObserved {
  /** The owned table's fingerprint; undefined when it does not exist. */
  fingerprint: string | undefined;
  device: boolean;
  vips: string[];
  interfaces: { name: string; addresses: string[] }[];
  forwarding: Forwarding;
  live: MemberLiveState;
}

export interface NftLbDriverOptions {
  /** The namespace the agent drives in netns mode: health probes run inside it. */
  netns?: string;
  /** Probe members (off in dry-run, where nothing real exists). */
  probe: boolean;
}

const prefixOf = (vip: string) => (vip.includes(':') ? `${vip}/128` : `${vip}/32`);

async function readOr(exec: Executor, argv: string[], fallback: string): Promise<string> {
  try {
    return (await exec.read(argv)).stdout;
  } catch (err) {
    if (err instanceof CommandError) return fallback;
    throw err;
  }
}

/**
 * Host-local L4 balancing with nftables: the VIPs on a port-less bridge (answered by ARP on the
 * host's segments, announced with a gratuitous ARP when added), and the `inet qnet_lb` table —
 * DNAT per listener by algorithm, masquerade, counters — replaced atomically with `nft -f`.
 * Members failing their health check leave the rendered backend set; LEAST_CONNECTIONS is
 * re-derived from conntrack at least once a second.
 */
export function nftLbDriver(opts: NftLbDriverOptions): Driver<LbSpec, NftLbObserved> {
  const book = new HealthBook();
  let changed: () => void = () => undefined;
  const worker = new ProbeWorker(opts.netns, (r) => {
    if (book.record(r)) changed();
  });
  let ticker: NodeJS.Timeout | undefined;
  let current: LbSpec = { load_balancers: [] };
  // Counters from before the table was last replaced (a replacement restarts them at zero).
  const carried = new Map<string, { packets: number; bytes: number }>();
  let lastCounters = new Map<string, { packets: number; bytes: number }>();
  let lastFingerprint: string | undefined;

  function trackCounters(table: { listing: string; fingerprint: string } | undefined) {
    if (table?.fingerprint !== lastFingerprint) {
      for (const [k, v] of lastCounters) {
        const c = carried.get(k) ?? { packets: 0, bytes: 0 };
        carried.set(k, { packets: c.packets + v.packets, bytes: c.bytes + v.bytes });
      }
      lastFingerprint = table?.fingerprint;
    }
    lastCounters = table ? namedCounters(table.listing) : new Map();
  }

  const counted = (name: string) => ({
    packets: (carried.get(name)?.packets ?? 0) + (lastCounters.get(name)?.packets ?? 0),
    bytes: (carried.get(name)?.bytes ?? 0) + (lastCounters.get(name)?.bytes ?? 0),
  });

  /** Three reads (four when connections are wanted), run side by side. */
  async function observe(exec: Executor, withConnections: boolean): Promise<NftLbObserved> {
    const [table, addresses, forwarding, conntrack] = await Promise.all([
      readTable(exec, LB_TABLE),
      readOr(exec, ['ip', '-j', 'addr', 'show'], '[]'),
      readForwarding(exec),
      withConnections ? readOr(exec, ['conntrack', '-L'], '') : '',
    ]);
    trackCounters(table);
    // Bare addresses (no prefix length): VIPs on our device, candidates for gratuitous ARP.
    const links = parseAddrLinks(addresses, '').map((l) => ({
      name: l.name,
      addresses: l.addresses.map((a) => a.split('/')[0]!),
    }));
    return {
      fingerprint: table?.fingerprint,
      device: links.some((l) => l.name === VIP_DEVICE),
      vips: links.find((l) => l.name === VIP_DEVICE)?.addresses ?? [],
      interfaces: links.filter((l) => l.name !== VIP_DEVICE),
      forwarding,
      live: { health: book.health(), connections: connectionsPerMember(conntrack, current) },
    };
  }

  return {
    name: 'lb_nft',
    parse: parseLbSpec,
    // Connection counts are needed to plan only for LEAST_CONNECTIONS.
    observe: (exec) =>
      observe(
        exec,
        current.load_balancers.some((b) => b.algorithm === 'LEAST_CONNECTIONS'),
      ),
    plan(desired, observed): Change[] {
      const changes: Change[] = [];
      const lbs = desired.load_balancers;
      const wanted = lbs.map((b) => b.vip);
      if (lbs.length && !observed.device)
        changes.push(
          ['ip', 'link', 'add', VIP_DEVICE, 'type', 'bridge'],
          ['ip', 'link', 'set', VIP_DEVICE, 'up'],
        );
      for (const vip of observed.vips.filter((v) => !wanted.includes(v)))
        if (lbs.length) changes.push(['ip', 'addr', 'del', prefixOf(vip), 'dev', VIP_DEVICE]);
      const added = lbs.filter((b) => !observed.vips.includes(b.vip));
      for (const b of added)
        changes.push([
          'ip',
          'addr',
          'add',
          prefixOf(b.vip),
          'dev',
          VIP_DEVICE,
          // A port-less bridge has no carrier: IPv6 duplicate address detection would never end.
          ...(b.vip.includes(':') ? ['nodad'] : []),
        ]);
      if (!lbs.length && observed.device) changes.push(['ip', 'link', 'del', VIP_DEVICE]);
      const needs = (v6: boolean) => lbs.some((b) => b.vip.includes(':') === v6);
      changes.push(...planForwarding({ v4: needs(false), v6: needs(true) }, observed.forwarding));
      changes.push(
        ...planTable(LB_TABLE, renderLbTable(desired, observed.live), observed.fingerprint),
      );
      // Neighbours still holding the VIP's old owner (a failover) learn the new one at once.
      for (const b of added.filter((b) => !b.vip.includes(':'))) {
        const net = parseCidr(b.network_cidr);
        for (const i of observed.interfaces)
          if (
            i.name !== VIP_DEVICE &&
            i.addresses.some((a) => !a.includes(':') && cidrContainsIp(net, a))
          )
            changes.push(['arping', '-U', '-c', '1', '-I', i.name, b.vip]);
      }
      return changes;
    },
    assumeApplied: (spec) => {
      const live = { health: new Map(), connections: new Map() };
      const body = renderLbTable(spec, live);
      return {
        fingerprint: body ? fingerprintOf(body) : undefined,
        device: spec.load_balancers.length > 0,
        vips: spec.load_balancers.map((b) => b.vip),
        interfaces: [],
        forwarding: { v4: true, v6: true },
        live,
      };
    },
    follow(spec, onChange) {
      current = spec;
      changed = onChange;
      if (!opts.probe) return;
      worker.send(book.setTargets(probeTargets(spec)));
      const leastConnections = spec.load_balancers.some((b) => b.algorithm === 'LEAST_CONNECTIONS');
      if (leastConnections && !ticker) ticker = setInterval(() => changed(), 1000);
      if (!leastConnections && ticker) {
        clearInterval(ticker);
        ticker = undefined;
      }
    },
    async status(exec): Promise<LbObserved | undefined> {
      if (exec.mode === 'dry-run') return undefined;
      const observed = await observe(exec, true);
      return {
        load_balancers: current.load_balancers.map((b) => ({
          id: b.id,
          bytes_in: counted(counterName('in', b.id)).bytes,
          bytes_out: counted(counterName('out', b.id)).bytes,
          members: b.members.map((m) => ({
            id: m.id,
            health: observed.live.health.get(m.id) ?? 'UNKNOWN',
            active_connections: observed.live.connections.get(m.id) ?? 0,
            total_connections: counted(counterName('m', m.id)).packets,
          })),
        })),
      };
    },
    stop() {
      worker.stop();
      if (ticker) clearInterval(ticker);
    },
  };
}
