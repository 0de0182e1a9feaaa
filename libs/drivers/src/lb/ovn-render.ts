import type { LbProtocol, LbRealization, LbSpec } from '@qnet/contracts';
import { fingerprintOf } from '../nft.js';

/** A Load_Balancer row this agent owns, as observed (or as applying the spec would leave it). */
export interface OvnLbRow {
  name: string;
  lb_id: string;
  host: string;
  fingerprint: string;
}

const bracketed = (address: string) => (address.includes(':') ? `[${address}]` : address);
const hostPort = (address: string, port: number) => `${bracketed(address)}:${port}`;

/** One OVN row per protocol the LB listens on (an OVN load balancer has one protocol). */
export const rowName = (lbId: string, protocol: LbProtocol) =>
  `qnet-${lbId}-${protocol.toLowerCase()}`;

const protocolsOf = (lb: LbRealization) => [...new Set(lb.listeners.map((l) => l.protocol))];

/**
 * The ovn-nbctl commands that write one LB's rows, without its ownership tags: per listener a
 * VIP with every enabled member (`--may-exist lb-add`), source-address hashing for SOURCE_IP, a
 * Load_Balancer_Health_Check per VIP with the members' logical ports in ip_port_mappings (the
 * VIP is the checks' source address), and the attachment to the network's logical switch.
 */
export function lbCommands(lb: LbRealization): string[][] {
  const backends = lb.members.map((m) => hostPort(m.address, m.port)).join(',');
  const out: string[][] = [];
  for (const protocol of protocolsOf(lb)) {
    const name = rowName(lb.id, protocol);
    const listeners = lb.listeners.filter((l) => l.protocol === protocol);
    for (const l of listeners)
      out.push([
        '--may-exist',
        'lb-add',
        name,
        hostPort(lb.vip, l.port),
        backends,
        protocol.toLowerCase(),
      ]);
    if (lb.algorithm === 'SOURCE_IP')
      out.push(['set', 'load_balancer', name, 'selection_fields=ip_src']);
    const hc = lb.health_check;
    if (hc) {
      listeners.forEach((l, i) => {
        const ref = `@hc${protocol.toLowerCase()}${i}`;
        out.push(
          [
            `--id=${ref}`,
            'create',
            'Load_Balancer_Health_Check',
            `vip="${hostPort(lb.vip, l.port)}"`,
            `options:interval=${hc.interval_sec}`,
            `options:timeout=${hc.timeout_sec}`,
            `options:success_count=${hc.healthy_threshold}`,
            `options:failure_count=${hc.unhealthy_threshold}`,
          ],
          ['add', 'load_balancer', name, 'health_check', ref],
        );
      });
      const mapped = lb.members.filter((m) => m.logical_port);
      if (mapped.length)
        out.push([
          'set',
          'load_balancer',
          name,
          ...mapped.map(
            (m) => `ip_port_mappings:"${m.address}"="${m.logical_port}:${bracketed(lb.vip)}"`,
          ),
        ]);
    }
    out.push(['--may-exist', 'ls-add', lb.logical_switch]);
    out.push(['--may-exist', 'ls-lb-add', lb.logical_switch, name]);
  }
  return out;
}

const lbFingerprint = (lb: LbRealization) => fingerprintOf(JSON.stringify(lbCommands(lb)));

/** The rows applying `spec` leaves, tagged with this host. */
export function ovnRowsOf(spec: LbSpec, host: string): OvnLbRow[] {
  return spec.load_balancers.flatMap((lb) =>
    protocolsOf(lb).map((p) => ({
      name: rowName(lb.id, p),
      lb_id: lb.id,
      host,
      fingerprint: lbFingerprint(lb),
    })),
  );
}

/** What a row is emptied of before it is written again (health check rows go with their last reference). */
const REWRITTEN_COLUMNS = ['vips', 'health_check', 'ip_port_mappings', 'selection_fields'];

/**
 * ovn-nbctl commands (each to follow a `--`) that bring the northbound database from `observed`
 * to `spec`: an LB whose rows differ (fingerprint, names or owner — a failover adopts rows another
 * host wrote) has its rows emptied and written again in place — the same row, so the logical
 * switch keeps one reference to it (deleting and re-adding a row of the same name in one
 * transaction leaves the switch's references to chance); rows of LBs or protocols no longer
 * wanted are deleted. [] when equal.
 */
export function planOvn(spec: LbSpec, observed: OvnLbRow[], host: string): string[][] {
  const wanted = new Set(spec.load_balancers.map((b) => b.id));
  const cmds: string[][] = [];
  for (const lb of spec.load_balancers) {
    const want = ovnRowsOf({ load_balancers: [lb] }, host);
    const have = observed.filter((r) => r.lb_id === lb.id);
    const same =
      want.length === have.length &&
      want.every((w) =>
        have.some((h) => h.name === w.name && h.fingerprint === w.fingerprint && h.host === host),
      );
    if (same) continue;
    for (const r of have) {
      if (!want.some((w) => w.name === r.name)) cmds.push(['--if-exists', 'lb-del', r.name]);
      else for (const c of REWRITTEN_COLUMNS) cmds.push(['clear', 'load_balancer', r.name, c]);
    }
    for (const c of lbCommands(lb)) cmds.push(c);
    for (const w of want)
      cmds.push([
        'set',
        'load_balancer',
        w.name,
        `external_ids:qnet-lb=${lb.id}`,
        `external_ids:qnet-host=${host}`,
        `external_ids:qnet-fp=${w.fingerprint}`,
      ]);
  }
  for (const r of observed)
    if (r.host === host && !wanted.has(r.lb_id)) cmds.push(['--if-exists', 'lb-del', r.name]);
  return cmds;
}

/** Rows with qnet ownership tags from `ovn-nbctl -f json --columns=name,external_ids list Load_Balancer`. */
export function parseOvnRows(json: string): OvnLbRow[] {
  const doc = JSON.parse(json) as { data: [string, ['map', [string, string][]]][] };
  return doc.data.flatMap(([name, [, pairs]]) => {
    const ids = Object.fromEntries(pairs);
    return ids['qnet-lb']
      ? [
          {
            name,
            lb_id: ids['qnet-lb'],
            host: ids['qnet-host'] ?? '',
            fingerprint: ids['qnet-fp'] ?? '',
          },
        ]
      : [];
  });
}
