import { randomBytes } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSecretBox, SecretBox } from './secrets.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips, with a fresh nonce each time', () => {
    const a = box.seal('s3cret');
    expect(a).not.toContain('s3cret');
    expect(a).not.toBe(box.seal('s3cret'));
    expect(box.open(a)).toBe('s3cret');
  });

  it('refuses a value sealed under another key or altered', () => {
    const sealed = box.seal('s3cret');
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`v1:${raw.toString('base64')}`)).toThrow();
  });

  it('creates the key file 0600 once and reuses it', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'qnet-key-')), 'sub', 'master.key');
    const first = await loadSecretBox({ masterKeyFile: file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadSecretBox({ masterKeyFile: file });
    expect(second.open(first.seal('x'))).toBe('x');
  });
});
