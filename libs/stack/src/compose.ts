import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderNatsConfig } from '@qnet/bus';
import { componentUsers, loadNatsAuthority, writeCredentials } from './nats-server.js';

/** Where the compose stack's containers find what `npm run nats:config` writes. */
export const COMPOSE_NATS = {
  /** In every app container: its own credentials file, mounted from deploy/nats/creds/<user>.creds. */
  creds: '/run/secrets/nats.creds',
  /** In the registry container: the NATS authority it enrolls and revokes hosts with. */
  authority: '/run/secrets/nats-authority.json',
} as const;

/**
 * deploy/nats for the compose stack: the NATS authority (made once, kept), the server's
 * operator-mode config, and a credentials file per component and per agent host given. Further
 * hosts need no entry here: they enroll with a join token.
 */
export async function writeComposeNats(dir: string, agentHostIds: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const authority = await loadNatsAuthority(path.join(dir, 'authority.json'));
  writeFileSync(
    path.join(dir, 'nats.conf'),
    renderNatsConfig({
      listen: '0.0.0.0:4222',
      monitor: '0.0.0.0:8222',
      storeDir: '/data/jetstream',
      resolverDir: '/data/jwt',
      authority,
    }),
    { mode: 0o644 },
  );
  await writeCredentials(dir, authority, componentUsers(agentHostIds));
}
