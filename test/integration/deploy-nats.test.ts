import { execa } from 'execa';
import { clusterUsers } from '@qnet/bus';
import { natsPasswordVar } from '@qnet/stack';
import { fileURLToPath } from 'node:url';

describe('deploy/nats/nats.conf', () => {
  it('is accepted by nats-server with the passwords given as environment variables', async () => {
    const conf = fileURLToPath(new URL('../../deploy/nats/nats.conf', import.meta.url));
    const users = clusterUsers({
      gateway: 'x',
      observer: 'x',
      services: { registry: 'x', lb: 'x', vpn: 'x', bgp: 'x', tunnel: 'x', device: 'x' },
      agents: [{ hostId: 'node-1', password: 'x' }],
    }).map((u) => u.user);
    const env = Object.fromEntries(users.map((u) => [natsPasswordVar(u), `pw-${u}`]));
    const res = await execa('nats-server', ['-t', '-c', conf], { env, reject: false });
    expect({ code: res.exitCode, out: `${res.stdout}${res.stderr}` }).toMatchObject({ code: 0 });
    const missing = await execa('nats-server', ['-t', '-c', conf], {
      env: {},
      reject: false,
      extendEnv: false,
    });
    expect(missing.exitCode).not.toBe(0);
  });
});
