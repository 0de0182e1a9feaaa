import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { env } from './config.js';

/** Where a service's master key comes from: the variable, else a 0600 file created on first use. */
export const masterKeyConfigSpec = {
  masterKey: env.optional('QNET_MASTER_KEY', {
    description: 'base64 of 32 random bytes: encrypts secrets at rest (AES-256-GCM)',
    secret: true,
    pattern: /^[A-Za-z0-9+/]{43}=$/,
  }),
  masterKeyFile: env.string('QNET_MASTER_KEY_FILE', {
    description: 'used when QNET_MASTER_KEY is unset; created (0600) with a random key if missing',
    default: '.qnet/master.key',
  }),
};

const VERSION = 'v1';

/**
 * Authenticated encryption of secrets at rest (PSKs, private keys, passwords): AES-256-GCM with a
 * fresh 96-bit nonce per value, stored as "v1:<base64 nonce|tag|ciphertext>". A value sealed under
 * another key, or altered, fails to open instead of decrypting to garbage.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes');
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    const [version, data] = sealed.split(':');
    if (version !== VERSION || !data) throw new Error('not a sealed secret');
    const raw = Buffer.from(data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

export async function loadSecretBox(c: {
  masterKey?: string;
  masterKeyFile: string;
}): Promise<SecretBox> {
  if (c.masterKey) return new SecretBox(Buffer.from(c.masterKey, 'base64'));
  try {
    return new SecretBox(Buffer.from((await readFile(c.masterKeyFile, 'utf8')).trim(), 'base64'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(c.masterKeyFile), { recursive: true });
  const key = randomBytes(32);
  // Written whole under a name of its own, then linked into place: services starting together
  // see no file or the whole key, never a file another one is still writing. link() fails if the
  // name exists: whoever linked first wins and the others use theirs.
  const draft = `${c.masterKeyFile}.${process.pid}.${randomBytes(6).toString('hex')}`;
  await writeFile(draft, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(draft, c.masterKeyFile);
    return new SecretBox(key);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return loadSecretBox(c);
  } finally {
    await unlink(draft);
  }
}
