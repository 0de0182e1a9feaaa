import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeOrphanedDocuments, withDocument } from './documents.js';

describe('private documents', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'qnet-docs-spec-'));
  });
  afterEach(() => rm(tmp, { recursive: true, force: true }));

  it('exist, 0600, only while the command using them runs', async () => {
    let seen = '';
    const read = await withDocument('PrivateKey = secret\n', async (file) => {
      seen = file;
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      return (await execa('cat', [file])).stdout;
    });
    expect(read).toBe('PrivateKey = secret');
    expect(existsSync(path.dirname(seen))).toBe(false);
  });

  it("a dead process's are removed; a live one's stay", async () => {
    const exited = execa('true');
    await exited;
    const dead = exited.pid!;
    const leave = async (pid: number, suffix: string) => {
      const dir = path.join(tmp, `qnet-doc-${pid}-${suffix}`);
      await mkdir(dir);
      await writeFile(path.join(dir, 'document'), 'key', { mode: 0o600 });
    };
    await leave(dead, 'aaaaaa');
    await leave(process.pid, 'bbbbbb');
    await writeFile(path.join(tmp, 'qnet-doc-unrelated'), '');
    expect(await removeOrphanedDocuments(tmp)).toBe(1);
    expect((await readdir(tmp)).sort()).toEqual([
      `qnet-doc-${process.pid}-bbbbbb`,
      'qnet-doc-unrelated',
    ]);
  });
});
