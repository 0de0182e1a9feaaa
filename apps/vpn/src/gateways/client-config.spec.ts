import { configFilename, qrSvg, renderClientConfig } from './client-config.js';

describe('client config', () => {
  it('renders the client config document (docs/compatibility.md, 000)', () => {
    expect(
      renderClientConfig({
        name: 'johns-laptop',
        peerAddress: '10.99.0.10/32',
        hasPresharedKey: false,
        gatewayPublicKey: 'CpKaWVHc7mpCegVioUbJSF3H2CUHNiifTZteoXMIvTk=',
        externalIp: '203.0.113.10',
        listenPort: 51820,
        localSubnets: ['10.0.1.0/24', '10.0.2.0/24'],
      }),
    ).toBe(
      [
        '[Interface]',
        '# Name: johns-laptop',
        'PrivateKey = <YOUR_PRIVATE_KEY>',
        'Address = 10.99.0.10/32',
        '',
        '[Peer]',
        '# LimiQuantix VPN Gateway',
        'PublicKey = CpKaWVHc7mpCegVioUbJSF3H2CUHNiifTZteoXMIvTk=',
        'Endpoint = 203.0.113.10:51820',
        'AllowedIPs = 10.0.1.0/24, 10.0.2.0/24',
        'PersistentKeepalive = 25',
        '',
      ].join('\n'),
    );
  });

  it('brackets an IPv6 endpoint and asks for the PSK when there is one', () => {
    const doc = renderClientConfig({
      name: 'ops',
      peerAddress: 'fd99::10/128',
      hasPresharedKey: true,
      gatewayPublicKey: 'CpKaWVHc7mpCegVioUbJSF3H2CUHNiifTZteoXMIvTk=',
      externalIp: '2001:db8::10',
      listenPort: 51820,
      localSubnets: ['fd00:1::/64'],
    });
    expect(doc).toContain('Endpoint = [2001:db8::10]:51820');
    expect(doc).toContain('PresharedKey = <YOUR_PRESHARED_KEY>');
  });

  it('names the file as wg-quick needs and encodes the document as a QR code', async () => {
    expect(configFilename('johns laptop (work)')).toBe('johns-laptop-wo.conf');
    expect(await qrSvg('[Interface]\n')).toMatch(/^<svg[^>]*>.*<\/svg>\s*$/s);
  });
});
