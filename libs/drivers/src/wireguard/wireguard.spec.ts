import { argvOf } from '../driver.js';
import type { WireguardSpec } from '@qnet/contracts';
import { planWireguard, type WireguardObservedHost } from './plan.js';
import { parseWgDump } from './observed.js';
import { renderVpnTableBody, renderWgConf } from './render.js';
import { parseWireguardSpec } from './spec.js';
import { wireguardDriver } from './driver.js';

const GW = 'aIO2z8AlivB1rCvwz70u6soQrlhjMx586oll7oWd9Vs=';
const A = '+MTLJ8Wxlyh8/n09AyI7hgtaJQ10NN7MYKNkPBH6pEI=';
const B = 'CpKaWVHc7mpCegVioUbJSF3H2CUHNiifTZteoXMIvTk=';

const spec = (): WireguardSpec =>
  parseWireguardSpec({
    interfaces: [
      {
        name: 'qwg1',
        private_key: GW,
        listen_port: 51820,
        address: '10.99.0.1/24',
        local_subnets: ['10.0.1.0/24', '10.0.2.0/24'],
        peers: [
          { public_key: A, allowed_ip: '10.99.0.10/32' },
          { public_key: B, preshared_key: A, allowed_ip: '10.99.0.11/32' },
        ],
      },
    ],
  });

const empty: WireguardObservedHost = {
  interfaces: [],
  kernel: false,
  forwarding: { v4: false, v6: false },
  table: undefined,
};

describe('wireguard driver', () => {
  it('refuses what must not reach wg(8) or nft(8)', () => {
    const bad = (patch: object) => () =>
      parseWireguardSpec({ interfaces: [{ ...spec().interfaces[0], ...patch }] });
    expect(bad({ name: 'eth0' })).toThrow('interfaces[0].name must start with qwg');
    expect(bad({ private_key: 'x\n[Peer]' })).toThrow('interfaces[0].private_key');
    expect(bad({ peers: [{ public_key: A, allowed_ip: '0.0.0.0/0' }] })).toThrow('single address');
    expect(bad({ local_subnets: ['10.0.1.1/24'] })).toThrow('canonical CIDR');
  });

  it('renders the syncconf document and the isolation table', () => {
    const x = spec().interfaces[0]!;
    expect(renderWgConf(x)).toBe(
      `[Interface]\nPrivateKey = ${GW}\nListenPort = 51820\n\n[Peer]\nPublicKey = ${A}\nAllowedIPs = 10.99.0.10/32\n\n` +
        `[Peer]\nPublicKey = ${B}\nPresharedKey = ${A}\nAllowedIPs = 10.99.0.11/32\n`,
    );
    expect(renderVpnTableBody([x])).toBe(
      [
        '  chain forward {',
        '    type filter hook forward priority filter; policy accept;',
        '    iifname "qwg1" ip daddr { 10.0.1.0/24, 10.0.2.0/24 } accept',
        '    iifname "qwg1" drop',
        '  }',
        '  chain input {',
        '    type filter hook input priority filter; policy accept;',
        '    iifname "qwg1" ip daddr { 10.0.1.0/24, 10.0.2.0/24 } accept',
        '    iifname "qwg1" ip daddr 10.99.0.1 accept',
        '    iifname "qwg1" drop',
        '  }',
        '  chain postrouting {',
        '    type nat hook postrouting priority srcnat; policy accept;',
        '    ip saddr 10.99.0.0/24 ip daddr { 10.0.1.0/24, 10.0.2.0/24 } oifname != "qwg1" masquerade',
        '  }',
        '',
      ].join('\n'),
    );
  });

  it('keeps every rule within one address family', () => {
    const x = { ...spec().interfaces[0]!, local_subnets: ['10.0.1.0/24', 'fd00:1::/64'] };
    const v6 = { ...x, name: 'qwg2', address: 'fd99::1/64', local_subnets: ['fd00:2::/64'] };
    const body = renderVpnTableBody([x, v6]);
    expect(body).toContain('iifname "qwg1" ip6 daddr { fd00:1::/64 } accept');
    expect(body).toContain('iifname "qwg2" ip6 daddr fd99::1 accept');
    expect(body.split('\n').filter((l) => l.includes('masquerade'))).toEqual([
      '    ip saddr 10.99.0.0/24 ip daddr { 10.0.1.0/24 } oifname != "qwg1" masquerade',
      '    ip6 saddr fd99::/64 ip6 daddr { fd00:2::/64 } oifname != "qwg2" masquerade',
    ]);
  });

  it('creates a gateway with wireguard-go, keys only in a document, never in an argv', () => {
    const plan = planWireguard(spec(), empty);
    const argvs = plan.map(argvOf);
    expect(argvs).toEqual([
      ['wireguard-go', 'qwg1'],
      ['wg', 'syncconf', 'qwg1', '<document>'],
      ['ip', 'address', 'replace', '10.99.0.1/24', 'dev', 'qwg1'],
      ['ip', 'link', 'set', 'dev', 'qwg1', 'up'],
      ['sysctl', '-w', 'net.ipv4.ip_forward=1'],
      ['nft', '-f', '-'],
    ]);
    expect(argvs.flat().join(' ')).not.toContain(GW);
  });

  it('plans nothing once applied, and touches only the peers that change', () => {
    const applied = wireguardDriver.assumeApplied(spec());
    expect(planWireguard(spec(), applied)).toEqual([]);
    const fewer = spec();
    fewer.interfaces[0]!.peers.pop();
    expect(planWireguard(fewer, applied).map(argvOf)).toEqual([
      ['wg', 'set', 'qwg1', 'peer', B, 'remove'],
    ]);
    const rekeyed = spec();
    rekeyed.interfaces[0]!.peers[0]!.preshared_key = B;
    expect(planWireguard(rekeyed, applied)).toEqual([
      {
        argv: ['wg', 'addconf', 'qwg1', '<document>'],
        document: `[Peer]\nPublicKey = ${A}\nPresharedKey = ${B}\nAllowedIPs = 10.99.0.10/32\n`,
      },
    ]);
  });

  it('removes interfaces and the table it no longer wants', () => {
    const applied = wireguardDriver.assumeApplied(spec());
    expect(planWireguard({ interfaces: [] }, applied)).toEqual([
      ['ip', 'link', 'del', 'dev', 'qwg1'],
      ['nft', 'delete', 'table', 'inet', 'qnet_vpn'],
    ]);
  });

  it('reads `wg show dump`', () => {
    const dump = `${GW}\t${B}\t51820\toff\n${A}\t(none)\t192.0.2.2:33664\t10.99.0.10/32\t1795311228\t692\t604\toff\n`;
    expect(parseWgDump(dump)).toEqual({
      private_key: GW,
      public_key: B,
      listen_port: 51820,
      peers: [
        {
          public_key: A,
          preshared_key: undefined,
          endpoint: '192.0.2.2:33664',
          allowed_ips: ['10.99.0.10/32'],
          latest_handshake: 1795311228,
          rx_bytes: 692,
          tx_bytes: 604,
          persistent_keepalive: 0,
        },
      ],
    });
  });
});
