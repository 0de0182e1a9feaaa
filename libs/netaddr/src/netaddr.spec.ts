import {
  eui64LinkLocal,
  eui64LinkLocalHex,
  addressAt,
  canonicalIp,
  cidrContainsCidr,
  cidrContainsIp,
  cidrsOverlap,
  isCanonicalCidr,
  isInterfaceName,
  isIp,
  isMac,
  isWireguardKey,
  isNetworkOrBroadcast,
  isSubjectToken,
  isUnicastMac,
  offsetOf,
  parseCidr,
  randomLocalMac,
  usableOffsets,
} from './index.js';

describe('parseCidr', () => {
  it('parses v4 and v6 blocks', () => {
    expect(parseCidr('10.0.0.0/24')).toMatchObject({
      family: 4,
      prefix: 24,
      size: 256n,
      text: '10.0.0.0/24',
    });
    expect(parseCidr('fd00:100::/64')).toMatchObject({
      family: 6,
      prefix: 64,
      text: 'fd00:100::/64',
    });
  });
  it('rejects host bits, bad prefixes and legacy IPv4 forms', () => {
    expect(() => parseCidr('10.0.0.1/24')).toThrow('host bits are set; the network is 10.0.0.0/24');
    expect(parseCidr('10.0.0.1/24', false).text).toBe('10.0.0.0/24');
    expect(() => parseCidr('10.0.0.0/33')).toThrow('at most 32');
    expect(() => parseCidr('10.1/8')).toThrow('not an IP address');
    expect(() => parseCidr('10.0.0.0')).toThrow('address/prefix');
    expect(isCanonicalCidr('fd00:0100::/64')).toBe(false);
  });
});

describe('containment and overlap', () => {
  const net = parseCidr('192.168.18.0/24');
  it('answers containment for addresses and blocks', () => {
    expect(cidrContainsIp(net, '192.168.18.240')).toBe(true);
    expect(cidrContainsIp(net, '192.168.19.1')).toBe(false);
    expect(cidrContainsIp(net, 'fe80::1')).toBe(false);
    expect(cidrContainsCidr(parseCidr('10.0.0.0/8'), parseCidr('10.100.0.0/23'))).toBe(true);
    expect(cidrContainsCidr(parseCidr('10.100.0.0/23'), parseCidr('10.0.0.0/8'))).toBe(false);
  });
  it('detects overlap in both directions and never across families', () => {
    expect(cidrsOverlap(parseCidr('10.0.0.0/23'), parseCidr('10.0.1.0/24'))).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.1.0/24'), parseCidr('10.0.2.0/24'))).toBe(false);
    expect(cidrsOverlap(parseCidr('0.0.0.0/0'), parseCidr('::/0'))).toBe(false);
  });
});

describe('allocation math', () => {
  it('maps offsets to addresses and back', () => {
    const net = parseCidr('10.10.100.0/24');
    expect(addressAt(net, 1n)).toBe('10.10.100.1');
    expect(offsetOf(net, '10.10.100.254')).toBe(254n);
    expect(usableOffsets(net)).toEqual({ first: 1n, last: 254n });
    expect(isNetworkOrBroadcast(net, '10.10.100.255')).toBe(true);
    expect(isNetworkOrBroadcast(net, '10.10.100.1')).toBe(false);
    const v6 = parseCidr('fd00:100::/112');
    expect(addressAt(v6, 65535n)).toBe('fd00:100::ffff');
    expect(usableOffsets(parseCidr('10.0.0.0/31'))).toEqual({ first: 0n, last: 1n });
  });
  it('canonicalises addresses', () => {
    expect(canonicalIp('fd00:0100:0000::0001')).toBe('fd00:100::1');
    expect(isIp('256.1.1.1')).toBe(false);
    expect(isIp('fe80::1%eth0')).toBe(false);
  });
});

describe('MACs', () => {
  it('validates and generates locally administered unicast MACs', () => {
    expect(isMac('AA:FC:00:00:00:01')).toBe(true);
    expect(isMac('aa:fc:00:00:00')).toBe(false);
    expect(isUnicastMac('01:00:5e:00:00:01')).toBe(false);
    for (let i = 0; i < 100; i++) {
      const mac = randomLocalMac();
      expect(isUnicastMac(mac)).toBe(true);
      expect(parseInt(mac.slice(0, 2), 16) & 0x02).toBe(2);
    }
    expect(randomLocalMac('aa:fc').startsWith('aa:fc:')).toBe(true);
  });

  it("derives a MAC's EUI-64 link-local address, as the kernel does", () => {
    expect(eui64LinkLocal('52:54:00:12:34:56')).toBe('fe80::5054:ff:fe12:3456');
    expect(eui64LinkLocal('02:00:00:00:00:0A')).toBe('fe80::ff:fe00:a');
    expect(eui64LinkLocal('02:00:00:00:00:00')).toBe('fe80::ff:fe00:0');
    expect(eui64LinkLocal('00:00:00:00:00:00')).toBe('fe80::200:ff:fe00:0');
    expect(eui64LinkLocal('fe:ff:ff:ff:ff:ff')).toBe('fe80::fcff:ffff:feff:ffff');
    // The text a general IPv6 formatter gives for the same 128 bits, for any MAC.
    for (let i = 0; i < 500; i++) {
      const mac = randomLocalMac(i % 2 ? '' : '00:00');
      const full = eui64LinkLocalHex(mac).slice(2).match(/.{4}/g)!.join(':');
      expect(eui64LinkLocal(mac)).toBe(canonicalIp(full));
    }
    expect(eui64LinkLocalHex('02:00:00:00:00:0a')).toBe('0xfe80000000000000000000fffe00000a');
  });
});

describe('names', () => {
  it('accepts kernel-safe interface names only', () => {
    expect(isInterfaceName('fcbr0')).toBe(true);
    expect(isInterfaceName('tap-vm-12345')).toBe(true);
    expect(isInterfaceName('br0; rm -rf /')).toBe(false);
    expect(isInterfaceName('a-name-that-is-too-long')).toBe(false);
    expect(isInterfaceName('-br0')).toBe(false);
    expect(isInterfaceName('br0\n')).toBe(false);
    expect(isInterfaceName('')).toBe(false);
  });
  it('accepts subject-safe tokens only', () => {
    expect(isSubjectToken('node-1')).toBe(true);
    expect(isSubjectToken('3d1219c7c4c5404aaa1f6d2a48adfda4')).toBe(true);
    expect(isSubjectToken('a.b')).toBe(false);
    expect(isSubjectToken('>')).toBe(false);
    expect(isSubjectToken('*')).toBe(false);
  });
});

describe('isWireguardKey', () => {
  it('accepts 32-byte standard base64 as wg(8) prints it', () => {
    expect(isWireguardKey('CpKaWVHc7mpCegVioUbJSF3H2CUHNiifTZteoXMIvTk=')).toBe(true);
    expect(isWireguardKey('+MTLJ8Wxlyh8/n09AyI7hgtaJQ10NN7MYKNkPBH6pEI=')).toBe(true);
  });

  it('refuses other lengths, base64url, non-canonical padding bits and line breaks', () => {
    expect(isWireguardKey('abc123...base64...')).toBe(false);
    expect(isWireguardKey('-MTLJ8Wxlyh8_n09AyI7hgtaJQ10NN7MYKNkPBH6pEI=')).toBe(false);
    expect(isWireguardKey('CpKaWVHc7mpCegVioUbJSF3H2CUHNiifTZteoXMIvTl=')).toBe(false);
    expect(isWireguardKey('CpKaWVHc7mpCegVioUbJSF3H2CUHNiifTZteoXMIvTk=\n')).toBe(false);
    expect(isWireguardKey(undefined)).toBe(false);
  });
});
