import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSecretBox, SecretBox } from './secrets.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));
  /** The key files' directories, removed after the tests (they hold master keys). */
  const dirs: string[] = [];
  const keyDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'qnet-key-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

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
    const file = path.join(await keyDir(), 'sub', 'master.key');
    const first = await loadSecretBox({ masterKeyFile: file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadSecretBox({ masterKeyFile: file });
    expect(second.open(first.seal('x'))).toBe('x');
  });

  it('gives services starting together the same whole key (none reads a half-written file)', async () => {
    const built = fileURLToPath(new URL('../dist/secrets.js', import.meta.url));
    const script = `import { loadSecretBox } from ${JSON.stringify(built)};
      process.stdout.write((await loadSecretBox({ masterKeyFile: process.argv[1] })).seal('x'));`;
    for (let round = 0; round < 4; round++) {
      const file = path.join(await keyDir(), 'master.key');
      const sealed = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const r = await execa(process.execPath, ['--input-type=module', '-e', script, file]);
          return r.stdout;
        }),
      );
      const box = await loadSecretBox({ masterKeyFile: file });
      for (const s of sealed) expect(box.open(s)).toBe('x');
      expect(await readdir(path.dirname(file))).toEqual(['master.key']);
    }
  }, 60_000);
});
