import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNatsServer } from '@qnet/stack';

describe('npm start without nats-server', () => {
  it('says exactly how to get it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qnet-nonats-'));
    try {
      await expect(
        startNatsServer({ dir, agentHostIds: [], bin: path.join(dir, 'nats-server') }),
      ).rejects.toThrow(
        /nats-server was not found on PATH[\s\S]*apt-get install --no-install-recommends nats-server[\s\S]*NATS_URL=/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
