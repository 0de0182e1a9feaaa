import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isWireguardKey } from '@qnet/netaddr';

/**
 * This host's tunnel identity, kept in AGENT_STATE_DIR/tunnel.json (0600): the WireGuard key pair
 * the agent made (the private key never leaves the host) and, once the device controller issued
 * it, the device's PSK, with which the agent signs its later registrations.
 */
export interface TunnelIdentity {
  private_key: string;
  public_key: string;
  psk?: string;
}

export const TUNNEL_IDENTITY_FILE = 'tunnel.json';

/** An X25519 key pair in WireGuard's form (32 bytes each, base64), as `wg genkey | wg pubkey`. */
export function newWireguardKeyPair(): { private_key: string; public_key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = (k: typeof privateKey, part: 'd' | 'x') =>
    Buffer.from(k.export({ format: 'jwk' })[part]!, 'base64url').toString('base64');
  return { private_key: raw(privateKey, 'd'), public_key: raw(publicKey, 'x') };
}

async function store(file: string, identity: TunnelIdentity): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** The kept identity, or a new key pair (kept at once) on a host that has none. */
export async function loadTunnelIdentity(stateDir: string): Promise<TunnelIdentity> {
  const file = path.join(stateDir, TUNNEL_IDENTITY_FILE);
  try {
    const kept = JSON.parse(await readFile(file, 'utf8')) as Partial<TunnelIdentity>;
    if (isWireguardKey(kept.private_key) && isWireguardKey(kept.public_key))
      return {
        private_key: kept.private_key,
        public_key: kept.public_key,
        ...(typeof kept.psk === 'string' ? { psk: kept.psk } : {}),
      };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const identity = newWireguardKeyPair();
  await store(file, identity);
  return identity;
}

export async function keepPsk(
  stateDir: string,
  identity: TunnelIdentity,
  psk: string,
): Promise<TunnelIdentity> {
  const next = { ...identity, psk };
  await store(path.join(stateDir, TUNNEL_IDENTITY_FILE), next);
  return next;
}
