import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

// DER prefixes of an X25519 key in PKCS#8 / SPKI; the raw 32 bytes follow.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_LENGTH = 44;

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** The public key of a WireGuard private key (both base64, as wg(8) prints them). */
export function publicKeyOf(privateKey: string): string {
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, Buffer.from(privateKey, 'base64')]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_X25519_LENGTH - 32).toString('base64');
}

/** A new X25519 pair, the private key clamped as `wg genkey` does. */
export function generateKeyPair(): KeyPair {
  const raw = randomBytes(32);
  raw[0]! &= 248;
  raw[31]! &= 127;
  raw[31]! |= 64;
  const privateKey = raw.toString('base64');
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

/** A preshared key: 32 random bytes, as `wg genpsk` makes. */
export function generatePresharedKey(): string {
  return randomBytes(32).toString('base64');
}
