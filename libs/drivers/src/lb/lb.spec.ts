import { argvOf } from '../driver.js';
import type { LbRealization, LbSpec } from '@qnet/contracts';
import { HealthBook, probeTargets } from './health.js';
import { nftLbDriver, type NftLbObserved } from './nft-driver.js';
import { connectionsPerMember } from './nft-observed.js';
import { namedCounters } from '../nft.js';
import { leastLoaded, renderLbTable } from './nft-render.js';
import { ovnLbDriver } from './ovn-driver.js';
import { lbCommands, parseOvnRows, planOvn, ovnRowsOf } from './ovn-render.js';
import { parseLbSpec } from './spec.js';

const LB_ID = '11111111-1111-4111-8111-111111111111';
const M = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

function lb(over: Partial<LbRealization> = {}): LbRealization {
  return {
    id: LB_ID,
    vip: '10.0.0.100',
    algorithm: 'ROUND_ROBIN',
    network_cidr: '10.0.0.0/24',
    logical_switch: 'production-switch',
    listeners: [{ port: 80, protocol: 'TCP' }],
    members: [
      { id: M(1), address: '10.0.1.10', port: 80, weight: 5 },
      { id: M(2), address: '10.0.1.11', port: 80, weight: 3 },
      { id: M(3), address: '10.0.1.12', port: 8080, weight: 2 },
    ],
    ...over,
  };
}

const live = (health: [string, 'ONLINE' | 'OFFLINE'][] = [], conns: [string, number][] = []) => ({
  health: new Map(health),
  connections: new Map(conns),
});
const spec = (...lbs: LbRealization[]): LbSpec => ({ load_balancers: lbs });
const prerouting = (body: string) => body.split('chain postrouting')[0]!;

describe('nftables LB table', () => {
  it('ROUND_ROBIN rotates with numgen inc over every member', () => {
    expect(prerouting(renderLbTable(spec(lb()), live()))).toContain(
      'ip daddr 10.0.0.100 tcp dport 80 dnat ip to numgen inc mod 3 map { 0 : 10.0.1.10 . 80, 1 : 10.0.1.11 . 80, 2 : 10.0.1.12 . 8080 }',
    );
  });

  it('WEIGHTED maps intervals of numgen random sized by weight', () => {
    expect(renderLbTable(spec(lb({ algorithm: 'WEIGHTED' })), live())).toContain(
      'dnat ip to numgen random mod 10 map { 0-4 : 10.0.1.10 . 80, 5-7 : 10.0.1.11 . 80, 8-9 : 10.0.1.12 . 8080 }',
    );
  });

  it('SOURCE_IP hashes the source address with a fixed seed, weighted', () => {
    expect(renderLbTable(spec(lb({ algorithm: 'SOURCE_IP' })), live())).toContain(
      'dnat ip to jhash ip saddr mod 10 seed 0x51e7 map { 0-4 : 10.0.1.10 . 80',
    );
  });

  it('LEAST_CONNECTIONS rotates among the members with the fewest connections per weight', () => {
    const body = renderLbTable(
      spec(lb({ algorithm: 'LEAST_CONNECTIONS' })),
      live(
        [],
        [
          [M(1), 10],
          [M(2), 0],
        ],
      ),
    );
    expect(body).toContain('numgen inc mod 2 map { 0 : 10.0.1.11 . 80, 1 : 10.0.1.12 . 8080 }');
    const members = lb().members;
    expect(
      leastLoaded(
        members,
        new Map([
          [M(1), 5],
          [M(2), 3],
          [M(3), 2],
        ]),
      ).map((m) => m.id),
    ).toEqual([M(1), M(2), M(3)]);
  });

  it('leaves out members failing health checks, and rejects when none is left', () => {
    const one = renderLbTable(spec(lb()), live([[M(2), 'OFFLINE']]));
    expect(one).toContain('numgen inc mod 2 map { 0 : 10.0.1.10 . 80, 1 : 10.0.1.12 . 8080 }');
    const none = renderLbTable(
      spec(
        lb({
          listeners: [
            { port: 80, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        }),
      ),
      live([
        [M(1), 'OFFLINE'],
        [M(2), 'OFFLINE'],
        [M(3), 'OFFLINE'],
      ]),
    );
    expect(none).toContain(
      `ip daddr 10.0.0.100 tcp dport 80 reject with tcp reset comment "down:${LB_ID}"`,
    );
    expect(none).toContain(`ip daddr 10.0.0.100 udp dport 53 reject comment "down:${LB_ID}"`);
  });

  it('masquerades balanced connections and counts per LB and per member', () => {
    const body = renderLbTable(spec(lb()), live());
    const hex = LB_ID.replaceAll('-', '');
    expect(body).toContain('ct status dnat ct original ip daddr { 10.0.0.100 } masquerade');
    expect(body).toContain(`  counter in_${hex} {\n  }\n`);
    expect(body).toContain(
      `ct status dnat ct original ip daddr 10.0.0.100 ct direction original counter name "in_${hex}"`,
    );
    expect(body).toContain(
      `ct state new ct status dnat ct original ip daddr 10.0.0.100 counter name ip daddr . th dport map { 10.0.1.10 . 80 : "m_${M(1).replaceAll('-', '')}",`,
    );
  });

  it('brackets IPv6 backends and matches ip6', () => {
    const body = renderLbTable(
      spec(
        lb({
          vip: 'fd00::100',
          network_cidr: 'fd00::/64',
          members: [{ id: M(1), address: 'fd00::10', port: 80, weight: 1 }],
        }),
      ),
      live(),
    );
    expect(body).toContain(
      'ip6 daddr fd00::100 tcp dport 80 dnat ip6 to numgen inc mod 1 map { 0 : [fd00::10] . 80 }',
    );
  });

  it('renders nothing without listeners', () => {
    expect(renderLbTable(spec(lb({ listeners: [] })), live())).toBe('');
  });
});

describe('nftables LB driver plan', () => {
  const driver = nftLbDriver({ probe: false });
  const empty: NftLbObserved = {
    fingerprint: undefined,
    device: false,
    vips: [],
    interfaces: [
      { name: 'eth0', addresses: ['10.0.0.1'] },
      { name: 'eth1', addresses: ['10.0.1.254'] },
    ],
    forwarding: { v4: false, v6: true },
    live: live(),
  };

  it('creates the VIP device, turns on forwarding, writes the table and announces the VIP', () => {
    const argv = driver.plan(spec(lb()), empty).map(argvOf);
    expect(argv).toEqual([
      ['ip', 'link', 'add', 'qnlb0', 'type', 'bridge'],
      ['ip', 'link', 'set', 'qnlb0', 'up'],
      ['ip', 'addr', 'add', '10.0.0.100/32', 'dev', 'qnlb0'],
      ['sysctl', '-w', 'net.ipv4.ip_forward=1'],
      ['nft', '-f', '-'],
      ['arping', '-U', '-c', '1', '-I', 'eth0', '10.0.0.100'],
    ]);
  });

  it('plans nothing once applied, and removes everything when nothing is desired', () => {
    const applied = { ...driver.assumeApplied(spec(lb())), interfaces: empty.interfaces };
    expect(driver.plan(spec(lb()), applied)).toEqual([]);
    expect(driver.plan(spec(), applied)).toEqual([
      ['ip', 'link', 'del', 'qnlb0'],
      ['nft', 'delete', 'table', 'inet', 'qnet_lb'],
    ]);
  });
});

describe('LB observations', () => {
  it('counts established connections per member from conntrack', () => {
    const out = [
      'tcp      6 431999 ESTABLISHED src=10.0.0.9 dst=10.0.0.100 sport=40000 dport=80 src=10.0.1.10 dst=10.0.1.254 sport=80 dport=40000 [ASSURED] mark=0 use=1',
      'tcp      6 431999 ESTABLISHED src=10.0.0.9 dst=10.0.0.100 sport=40001 dport=80 src=10.0.1.10 dst=10.0.1.254 sport=80 dport=40001 [ASSURED] mark=0 use=1',
      'tcp      6 119 TIME_WAIT src=10.0.0.9 dst=10.0.0.100 sport=40002 dport=80 src=10.0.1.11 dst=10.0.1.254 sport=80 dport=40002 [ASSURED] mark=0 use=1',
      'udp      17 29 src=10.0.0.9 dst=10.0.0.100 sport=5353 dport=53 src=10.0.1.12 dst=10.0.1.254 sport=8080 dport=5353 mark=0 use=1',
      'tcp      6 431999 ESTABLISHED src=10.0.0.9 dst=10.0.0.7 sport=1 dport=80 src=10.0.1.10 dst=10.0.0.9 sport=80 dport=1 mark=0 use=1',
    ].join('\n');
    expect(connectionsPerMember(out, spec(lb()))).toEqual(
      new Map([
        [M(1), 2],
        [M(3), 1],
      ]),
    );
  });

  it('reads named counters from the table listing', () => {
    const listing = 'table inet qnet_lb {\n\tcounter in_ab {\n\t\tpackets 3 bytes 180\n\t}\n}';
    expect(namedCounters(listing)).toEqual(new Map([['in_ab', { packets: 3, bytes: 180 }]]));
  });
});

describe('health book', () => {
  const hc = {
    protocol: 'TCP' as const,
    interval_sec: 5,
    timeout_sec: 3,
    unhealthy_threshold: 3,
    healthy_threshold: 2,
  };

  it('probes each member on its own port unless the check names one', () => {
    const targets = probeTargets(spec(lb({ health_check: hc })));
    expect(targets.map((t) => [t.target.address, t.target.port, t.target.interval_ms])).toEqual([
      ['10.0.1.10', 80, 5000],
      ['10.0.1.11', 80, 5000],
      ['10.0.1.12', 8080, 5000],
    ]);
    expect(probeTargets(spec(lb()))).toEqual([]);
  });

  it('goes OFFLINE after unhealthy_threshold failures and ONLINE after healthy_threshold successes', () => {
    const book = new HealthBook();
    book.setTargets(probeTargets(spec(lb({ health_check: hc }))));
    const fail = { key: M(1), ok: false };
    const pass = { key: M(1), ok: true };
    expect([book.record(fail), book.record(fail)]).toEqual([false, false]);
    expect(book.health().get(M(1))).toBe('UNKNOWN');
    expect(book.record(fail)).toBe(true);
    expect(book.health().get(M(1))).toBe('OFFLINE');
    expect([book.record(pass), book.record(pass)]).toEqual([false, true]);
    expect(book.health().get(M(1))).toBe('ONLINE');
    // A changed check starts over; an unchanged one keeps what it knows.
    book.setTargets(probeTargets(spec(lb({ health_check: hc }))));
    expect(book.health().get(M(1))).toBe('ONLINE');
    book.setTargets(probeTargets(spec(lb({ health_check: { ...hc, port: 81 } }))));
    expect(book.health().get(M(1))).toBe('UNKNOWN');
  });
});

describe('OVN LB rows', () => {
  it("renders the seed's lb-add and ls-lb-add, health checks and ip_port_mappings", () => {
    const cmds = lbCommands(
      lb({
        algorithm: 'SOURCE_IP',
        members: [
          { id: M(1), address: '10.0.1.10', port: 80, weight: 1, logical_port: 'web1' },
          { id: M(2), address: '10.0.1.11', port: 80, weight: 1 },
        ],
        health_check: {
          protocol: 'TCP',
          port: 80,
          interval_sec: 5,
          timeout_sec: 3,
          unhealthy_threshold: 3,
          healthy_threshold: 2,
        },
      }),
    );
    const name = `qnet-${LB_ID}-tcp`;
    expect(cmds).toEqual([
      ['--may-exist', 'lb-add', name, '10.0.0.100:80', '10.0.1.10:80,10.0.1.11:80', 'tcp'],
      ['set', 'load_balancer', name, 'selection_fields=ip_src'],
      [
        '--id=@hctcp0',
        'create',
        'Load_Balancer_Health_Check',
        'vip="10.0.0.100:80"',
        'options:interval=5',
        'options:timeout=3',
        'options:success_count=2',
        'options:failure_count=3',
      ],
      ['add', 'load_balancer', name, 'health_check', '@hctcp0'],
      ['set', 'load_balancer', name, 'ip_port_mappings:"10.0.1.10"="web1:10.0.0.100"'],
      ['--may-exist', 'ls-add', 'production-switch'],
      ['--may-exist', 'ls-lb-add', 'production-switch', name],
    ]);
  });

  it('is one transaction that changes only what differs, and nothing once applied', () => {
    const driver = ovnLbDriver({ db: 'unix:/run/nb.sock', hostId: 'h1' });
    const [change] = driver.plan(spec(lb()), []);
    expect(Array.isArray(change) && change.slice(0, 5)).toEqual([
      'ovn-nbctl',
      '--db=unix:/run/nb.sock',
      '--',
      '--may-exist',
      'lb-add',
    ]);
    expect(driver.plan(spec(lb()), driver.assumeApplied(spec(lb())))).toEqual([]);
    const rows = ovnRowsOf(spec(lb()), 'h1');
    // Another host's rows for this LB (a failover) are adopted and rewritten in place; rows of
    // protocols or LBs no longer wanted are deleted.
    const row = `qnet-${LB_ID}-tcp`;
    const adopted = planOvn(
      spec(lb()),
      rows.map((r) => ({ ...r, host: 'h0' })),
      'h1',
    );
    expect(adopted.slice(0, 5)).toEqual([
      ['clear', 'load_balancer', row, 'vips'],
      ['clear', 'load_balancer', row, 'health_check'],
      ['clear', 'load_balancer', row, 'ip_port_mappings'],
      ['clear', 'load_balancer', row, 'selection_fields'],
      [
        '--may-exist',
        'lb-add',
        row,
        '10.0.0.100:80',
        '10.0.1.10:80,10.0.1.11:80,10.0.1.12:8080',
        'tcp',
      ],
    ]);
    const udpOnly = lb({ listeners: [{ port: 53, protocol: 'UDP' }] });
    expect(planOvn(spec(udpOnly), rows, 'h1')[0]).toEqual(['--if-exists', 'lb-del', row]);
    expect(planOvn(spec(), rows, 'h1')).toEqual([['--if-exists', 'lb-del', `qnet-${LB_ID}-tcp`]]);
    expect(planOvn(spec(), rows, 'h2')).toEqual([]);
  });

  it('reads owned rows from ovn-nbctl JSON', () => {
    const json = JSON.stringify({
      data: [
        [
          'qnet-a-tcp',
          [
            'map',
            [
              ['qnet-lb', 'a'],
              ['qnet-host', 'h1'],
              ['qnet-fp', 'f'],
            ],
          ],
        ],
        ['theirs', ['map', []]],
      ],
      headings: ['name', 'external_ids'],
    });
    expect(parseOvnRows(json)).toEqual([
      { name: 'qnet-a-tcp', lb_id: 'a', host: 'h1', fingerprint: 'f' },
    ]);
  });
});

describe('LB spec', () => {
  it('refuses what would reach nft or ovn-nbctl unchecked', () => {
    expect(() => parseLbSpec(spec(lb({ vip: '10.0.0.100; flush ruleset' })))).toThrow(
      'spec.load_balancers[0].vip must be an IP address',
    );
    expect(() => parseLbSpec(spec(lb({ logical_switch: '--db=tcp:1.2.3.4:1' })))).toThrow(
      'logical_switch must be an OVN name',
    );
    expect(() =>
      parseLbSpec(spec(lb({ members: [{ id: M(1), address: 'fd00::1', port: 80, weight: 1 }] }))),
    ).toThrow("must be of the VIP's family");
    expect(parseLbSpec(spec(lb()))).toEqual(spec(lb()));
  });
});
