import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeComposeNats } from '@qnet/stack';

describe('deploy/nats (npm run nats:config)', () => {
  it('writes a nats.conf that nats-server accepts (operator mode, no users in the file)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qnet-deploy-nats-'));
    try {
      await writeComposeNats(dir, ['node-1']);
      const res = await execa('nats-server', ['-t', '-c', path.join(dir, 'nats.conf')], {
        reject: false,
      });
      expect({ code: res.exitCode, out: `${res.stdout}${res.stderr}` }).toMatchObject({ code: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
