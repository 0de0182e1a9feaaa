import { execa } from 'execa';
import { isWireguardKey } from '@qnet/netaddr';
import { generateKeyPair, generatePresharedKey, publicKeyOf } from './keys.js';

describe('WireGuard keys', () => {
  it('derives the public key of RFC 7748 §6.1 (X25519 test vector)', () => {
    const alicePrivate = Buffer.from(
      '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
      'hex',
    ).toString('base64');
    expect(Buffer.from(publicKeyOf(alicePrivate), 'base64').toString('hex')).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
  });

  it('makes clamped pairs and PSKs in the format wg(8) reads', () => {
    const { privateKey, publicKey } = generateKeyPair();
    expect(isWireguardKey(privateKey) && isWireguardKey(publicKey)).toBe(true);
    const raw = Buffer.from(privateKey, 'base64');
    expect(raw[0]! & 7).toBe(0);
    expect(raw[31]! & 0xc0).toBe(0x40);
    expect(isWireguardKey(generatePresharedKey())).toBe(true);
  });

  it('agrees with `wg pubkey` (wireguard-tools)', async () => {
    const { privateKey, publicKey } = generateKeyPair();
    expect((await execa('wg', ['pubkey'], { input: privateKey })).stdout.trim()).toBe(publicKey);
  });
});
