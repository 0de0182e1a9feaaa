import type { TunnelEndpointSpec, TunnelRouterSpec, TunnelSpec } from '@qnet/contracts';
import { argvOf, type Change } from '../driver.js';
import { layoutEndpoint } from './layout.js';
import type { TunnelLink, TunnelObservedHost } from './observed.js';
import { parseTunnelRoutes } from './observed.js';
import { planTunnel } from './plan.js';
import { renderEndpointWgConf, renderRouterWgConf, renderTunnelTableBody } from './render.js';
import { parseTunnelSpec } from './spec.js';

const K = (c: string) => `${c.repeat(42)}A=`;
const [OWN, RA, RB, RC, EP, PSK] = ['O', 'A', 'B', 'C', 'E', 'P'].map(K) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const host = { privateKey: OWN, egressInterface: 'eth1' };

const router = (id: string, key: string, n: number, role: 'primary' | 'backup') => ({
  router_id: id,
  role,
  public_key: key,
  endpoint: `192.0.2.${n}:51820`,
  ipv4: `10.10.100.${n}`,
  ipv6: `fd00:100::${n}`,
});
const A = router('rs-a', RA, 1, 'primary');
const B = router('rs-b', RB, 2, 'backup');
const C = router('rs-c', RC, 3, 'primary');

function endpoint(routers = [A, B]): TunnelEndpointSpec {
  return {
    interface_names: ['tun0', 'tun1'],
    mtu: 1400,
    keepalive_s: 10,
    ipv4: '10.10.100.11',
    ipv6: 'fd00:100::11',
    routes: ['203.0.113.0/24', '2001:db8:b::/64'],
    probe_interval_ms: 10,
    probe_misses: 3,
    preshared_key: PSK,
    routers: routers.map((r, i) => ({ ...r, role: i === 0 ? 'primary' : 'backup' })),
  };
}

const routerSpec: TunnelRouterSpec = {
  interface_name: 'rt1',
  listen_port: 51820,
  mtu: 1400,
  ipv4: '10.10.100.1/24',
  ipv6: 'fd00:100::1/112',
  peers: [
    {
      endpoint_id: 'ep-1',
      public_key: EP,
      preshared_key: PSK,
      ipv4: '10.10.100.11',
      ipv6: 'fd00:100::11',
    },
  ],
};

/** A tunnel device of the endpoint as configured for `key` (the kernel after an apply). */
function slotLink(name: string, key: string, e = endpoint()): TunnelLink {
  const r = [A, B, C].find((x) => x.public_key === key)!;
  return {
    name,
    up: true,
    mtu: 1400,
    alias: 'qnet-tunnel',
    addresses: [`${e.ipv4}/32`, `${e.ipv6}/128`],
    wireguard: true,
    private_key: OWN,
    listen_port: 40000,
    peers: [
      {
        public_key: key,
        preshared_key: PSK,
        endpoint: r.endpoint,
        allowed_ips: ['0.0.0.0/0', '::/0'],
        latest_handshake: 1,
        rx_bytes: 0,
        tx_bytes: 0,
        persistent_keepalive: 10,
      },
    ],
  };
}

function observed(o: Partial<TunnelObservedHost> = {}): TunnelObservedHost {
  return {
    links: [],
    routes: [],
    forwarding: { v4: false, v6: false },
    table: undefined,
    kernel: false,
    health: new Map(),
    avoided: new Set(),
    ...o,
  };
}

/** An endpoint whose tun0 holds `first`, tun1 `second`, the routes on `on`. */
function endpointHost(
  first: string,
  second: string,
  on: 'tun0' | 'tun1',
  health: Record<string, boolean>,
) {
  const hostRoutes = (dev: string, key: string) => {
    const r = [A, B, C].find((x) => x.public_key === key)!;
    return [`${r.ipv4}/32`, `${r.ipv6}/128`].map((dst) => ({ dst, dev }));
  };
  return observed({
    links: [slotLink('tun0', first), slotLink('tun1', second)],
    routes: [
      ...hostRoutes('tun0', first),
      ...hostRoutes('tun1', second),
      { dst: '203.0.113.0/24', dev: on },
      { dst: '2001:db8:b::/64', dev: on },
    ],
    health: new Map(Object.entries(health)),
  });
}

const argvs = (changes: Change[]) => changes.map((c) => argvOf(c).join(' '));

describe('tunnel spec', () => {
  it('takes a router and an endpoint spec as the controller renders them', () => {
    const spec: TunnelSpec = { router: routerSpec };
    expect(parseTunnelSpec(spec)).toEqual(spec);
    expect(parseTunnelSpec({ endpoint: endpoint() })).toEqual({ endpoint: endpoint() });
    expect(parseTunnelSpec({})).toEqual({});
  });

  it('refuses what must not reach wg, ip or nft, naming where', () => {
    const bad: [unknown, RegExp][] = [
      [
        { router: { ...routerSpec, interface_name: 'rt1; rm -rf' } },
        /spec\.router\.interface_name/,
      ],
      [
        {
          router: {
            ...routerSpec,
            peers: [{ ...routerSpec.peers[0], preshared_key: 'x\nPublicKey = y' }],
          },
        },
        /spec\.router\.peers\[0\]\.preshared_key/,
      ],
      [{ router: { ...routerSpec, ipv4: 'fd00::1/64' } }, /spec\.router\.ipv4 must be an IPv4/],
      [
        { endpoint: { ...endpoint(), routes: ['0.0.0.0/0'] } },
        /routes\[0\] must not be a default route/,
      ],
      [{ endpoint: { ...endpoint(), routers: [B, A] } }, /routers\[0\]\.role must be primary/],
      [
        { endpoint: { ...endpoint(), routers: [{ ...A, endpoint: '192.0.2.1:51820\n' }] } },
        /routers\[0\]\.endpoint/,
      ],
      [
        { endpoint: { ...endpoint(), routers: [{ ...A, endpoint: '[192.0.2.1]:51820' }] } },
        /brackets an IPv6 address only/,
      ],
      [{ endpoint: { ...endpoint(), interface_names: ['tun0', 'tun0'] } }, /two different devices/],
      [{ endpoint: endpoint(), router: routerSpec }, /not both/],
    ];
    for (const [spec, message] of bad) expect(() => parseTunnelSpec(spec)).toThrow(message);
  });
});

describe('tunnel rendering', () => {
  it("renders a router's listener: each endpoint may send only from its own addresses", () => {
    expect(renderRouterWgConf(routerSpec, OWN)).toBe(
      `[Interface]\nPrivateKey = ${OWN}\nListenPort = 51820\n\n[Peer]\nPublicKey = ${EP}\nPresharedKey = ${PSK}\nAllowedIPs = 10.10.100.11/32, fd00:100::11/128\n`,
    );
  });

  it("renders an endpoint's tunnel: one router for every destination, keepalives", () => {
    expect(renderEndpointWgConf(endpoint(), A, OWN)).toBe(
      `[Interface]\nPrivateKey = ${OWN}\n\n[Peer]\nPublicKey = ${RA}\nPresharedKey = ${PSK}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 10\n`,
    );
  });

  it("renders a router's table: tunnelled traffic only out of the egress, masqueraded", () => {
    expect(renderTunnelTableBody(routerSpec, 'eth1')).toBe(
      '  chain forward {\n    type filter hook forward priority filter; policy accept;\n' +
        '    iifname "rt1" oifname "eth1" accept\n    iifname "rt1" drop\n  }\n' +
        '  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n' +
        '    iifname "rt1" oifname "eth1" masquerade\n  }\n',
    );
  });

  it('reads owned routes with their prefix lengths, unreachable ones without a device', () => {
    expect(
      parseTunnelRoutes(
        '[{"dst":"10.10.100.1","dev":"tun0"},{"type":"unreachable","dst":"203.0.113.0/24"},{"dst":"fd00:100::1","dev":"tun0"}]',
      ),
    ).toEqual([
      { dst: '10.10.100.1/32', dev: 'tun0' },
      { dst: '203.0.113.0/24', dev: '' },
      { dst: 'fd00:100::1/128', dev: 'tun0' },
    ]);
  });
});

describe('tunnel layout', () => {
  const now = (k0?: string, k1?: string, routesOn?: number) => ({
    keys: [k0, k1] as const,
    routesOn,
  });
  const health = (h: Record<string, boolean>) => (k: string) => h[k] ?? null;

  it('starts with the primary on the first tunnel, the backup on the second, routes on the primary', () => {
    const l = layoutEndpoint(endpoint(), now(), health({}));
    expect(l.target).toBe(0);
    expect(l.slots.map((s) => s.router?.router_id)).toEqual(['rs-a', 'rs-b']);
  });

  it('moves the routes to the backup when the primary stops answering, and not back while it is avoided', () => {
    expect(
      layoutEndpoint(endpoint(), now(RA, RB, 0), health({ [RA]: false, [RB]: true })).target,
    ).toBe(1);
    expect(
      layoutEndpoint(endpoint(), now(RA, RB, 1), health({ [RA]: true, [RB]: true }), new Set([RA]))
        .target,
    ).toBe(1);
    // …unless the backup stops answering too.
    expect(
      layoutEndpoint(endpoint(), now(RA, RB, 1), health({ [RA]: true, [RB]: false }), new Set([RA]))
        .target,
    ).toBe(0);
    // Nothing answers: the routes stay.
    expect(
      layoutEndpoint(endpoint(), now(RA, RB, 1), health({ [RA]: false, [RB]: false })).target,
    ).toBe(1);
  });

  it('make-before-break: a new primary goes to the tunnel not carrying the routes, which drains until it answers', () => {
    // Decision: primary C (new), backup A (the old primary, carrying on tun0); tun1 held B.
    const spec = endpoint([C, A]);
    const before = layoutEndpoint(spec, now(RA, RB, 0), health({ [RA]: true, [RB]: true }));
    expect(before.target).toBe(0);
    expect(before.slots.map((s) => s.router?.router_id)).toEqual(['rs-a', 'rs-c']);
    const after = layoutEndpoint(spec, now(RA, RC, 0), health({ [RA]: true, [RC]: true }));
    expect(after.target).toBe(1);
    expect(after.slots.map((s) => s.router?.router_id)).toEqual(['rs-a', 'rs-c']);
    // Both routers replaced: the carrying tunnel keeps its old router (draining) until the new primary answers.
    const both = endpoint([C, { ...B, role: 'backup' }]);
    const drain = layoutEndpoint(both, now(RA, RB, 0), health({ [RA]: true, [RB]: false }));
    expect(drain.target).toBe(0);
    expect(drain.slots).toEqual([
      { name: 'tun0', key: RA },
      expect.objectContaining({ name: 'tun1', key: RC }),
    ]);
    const moved = layoutEndpoint(both, now(RA, RC, 0), health({ [RA]: true, [RC]: true }));
    expect(moved.target).toBe(1);
    expect(moved.slots.map((s) => s.router?.router_id)).toEqual(['rs-b', 'rs-c']);
  });
});

describe('tunnel plan', () => {
  it("creates a router's listener, forwarding and table; plans nothing once it holds them", () => {
    const plan = planTunnel({ router: routerSpec }, observed(), host);
    expect(argvs(plan)).toEqual([
      'wireguard-go rt1',
      'ip link set dev rt1 alias qnet-tunnel',
      'wg syncconf rt1 <document>',
      'ip address replace 10.10.100.1/24 dev rt1',
      'ip address replace fd00:100::1/112 dev rt1 nodad',
      'ip link set dev rt1 mtu 1400',
      'ip link set dev rt1 up',
      'sysctl -w net.ipv4.ip_forward=1',
      'sysctl -w net.ipv6.conf.all.forwarding=1',
      'nft -f -',
    ]);
    const held = observed({
      links: [
        {
          name: 'rt1',
          up: true,
          mtu: 1400,
          alias: 'qnet-tunnel',
          addresses: ['10.10.100.1/24', 'fd00:100::1/112'],
          wireguard: true,
          private_key: OWN,
          listen_port: 51820,
          peers: [
            {
              public_key: EP,
              preshared_key: PSK,
              endpoint: '192.0.2.11:40000',
              allowed_ips: ['fd00:100::11/128', '10.10.100.11/32'],
              latest_handshake: 0,
              rx_bytes: 0,
              tx_bytes: 0,
              persistent_keepalive: 0,
            },
          ],
        },
      ],
      forwarding: { v4: true, v6: true },
      table: (plan[9] as { input: string }).input.match(/qnet:([0-9a-f]{16})/)![1],
    });
    expect(planTunnel({ router: routerSpec }, held, host)).toEqual([]);
    // One endpoint more, one less: those peers alone, never a syncconf over every session.
    const other = {
      ...routerSpec.peers[0]!,
      endpoint_id: 'ep-2',
      public_key: RB,
      ipv4: '10.10.100.12',
      ipv6: 'fd00:100::12',
    };
    expect(planTunnel({ router: { ...routerSpec, peers: [other] } }, held, host)).toEqual([
      ['wg', 'set', 'rt1', 'peer', EP, 'remove'],
      {
        argv: ['wg', 'addconf', 'rt1', '<document>'],
        document: `[Peer]\nPublicKey = ${RB}\nPresharedKey = ${PSK}\nAllowedIPs = 10.10.100.12/32, fd00:100::12/128\n`,
      },
    ]);
  });

  it("makes an endpoint's first tunnel ready, routes through it, then the second", () => {
    expect(argvs(planTunnel({ endpoint: endpoint() }, observed(), host))).toEqual([
      'wireguard-go tun0',
      'ip link set dev tun0 alias qnet-tunnel',
      'wg syncconf tun0 <document>',
      'ip address replace 10.10.100.11/32 dev tun0',
      'ip address replace fd00:100::11/128 dev tun0 nodad',
      'ip link set dev tun0 mtu 1400',
      'ip link set dev tun0 up',
      'ip route replace 10.10.100.1/32 dev tun0 proto 114',
      'ip route replace fd00:100::1/128 dev tun0 proto 114',
      'ip route replace 203.0.113.0/24 dev tun0 src 10.10.100.11 proto 114',
      'ip route replace 2001:db8:b::/64 dev tun0 src fd00:100::11 proto 114',
      'wireguard-go tun1',
      'ip link set dev tun1 alias qnet-tunnel',
      'wg syncconf tun1 <document>',
      'ip address replace 10.10.100.11/32 dev tun1',
      'ip address replace fd00:100::11/128 dev tun1 nodad',
      'ip link set dev tun1 mtu 1400',
      'ip link set dev tun1 up',
      'ip route replace 10.10.100.2/32 dev tun1 proto 114',
      'ip route replace fd00:100::2/128 dev tun1 proto 114',
    ]);
    expect(planTunnel({ endpoint: endpoint() }, endpointHost(RA, RB, 'tun0', {}), host)).toEqual(
      [],
    );
  });

  it('moves the routes before it gives the tunnel that carried them another router', () => {
    // Decision: primary B (answering on tun1), backup C; tun0 held A and the routes.
    const spec = {
      endpoint: endpoint([
        { ...B, role: 'primary' },
        { ...C, role: 'backup' },
      ]),
    };
    const plan = argvs(
      planTunnel(spec, endpointHost(RA, RB, 'tun0', { [RA]: true, [RB]: true }), host),
    );
    expect(plan).toEqual([
      'ip route replace 203.0.113.0/24 dev tun1 src 10.10.100.11 proto 114',
      'ip route replace 2001:db8:b::/64 dev tun1 src fd00:100::11 proto 114',
      'wg syncconf tun0 <document>',
      'ip route replace 10.10.100.3/32 dev tun0 proto 114',
      'ip route replace fd00:100::3/128 dev tun0 proto 114',
      'ip route del 10.10.100.1/32 dev tun0 proto 114',
      'ip route del fd00:100::1/128 dev tun0 proto 114',
    ]);
  });

  it('makes routes unreachable with no router at all: nothing leaves untunnelled', () => {
    expect(argvs(planTunnel({ endpoint: endpoint([]) }, observed(), host))).toEqual([
      'ip route replace unreachable 203.0.113.0/24 proto 114',
      'ip route replace unreachable 2001:db8:b::/64 proto 114',
    ]);
  });

  it('removes only its own devices, routes and table', () => {
    const foreign = { ...slotLink('wg9', RA), alias: '' };
    const mine = endpointHost(RA, RB, 'tun0', {});
    expect(
      argvs(planTunnel({}, { ...mine, links: [...mine.links, foreign], table: 'abc' }, host)),
    ).toEqual([
      ...[
        '10.10.100.1/32 dev tun0',
        'fd00:100::1/128 dev tun0',
        '10.10.100.2/32 dev tun1',
        'fd00:100::2/128 dev tun1',
        '203.0.113.0/24 dev tun0',
        '2001:db8:b::/64 dev tun0',
      ].map((r) => `ip route del ${r} proto 114`),
      'ip link del dev tun0',
      'ip link del dev tun1',
      'nft delete table inet qnet_tunnel',
    ]);
  });

  it('leaves a device of a wanted name that is not WireGuard alone', () => {
    const squatter = { ...slotLink('tun0', RA), wireguard: false, alias: '', peers: [] };
    const plan = argvs(planTunnel({ endpoint: endpoint() }, observed({ links: [squatter] }), host));
    expect(plan.filter((c) => c.includes(' tun0 ') || c.endsWith(' tun0'))).toEqual([]);
  });
});
