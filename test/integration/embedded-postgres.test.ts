import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { busRequest, NATS_USERS, natsOptions } from '@qnet/bus';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@qnet/persistence';
import {
  freePort,
  startApp,
  startNatsServer,
  waitFor,
  type AppProcess,
  type Deployment,
  type NatsHandle,
} from '@qnet/stack';
import { REPO_ROOT } from '@qnet/testing';
import { connect } from '@nats-io/transport-node';

/** npm start on a machine without PostgreSQL: the embedded one must carry a real service. */
describe('embedded PostgreSQL (PGlite) for npm start', () => {
  let dir: string;
  let embedded: EmbeddedPostgres;
  let nats: NatsHandle;
  let registry: AppProcess;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'qnet-pglite-'));
    embedded = await startEmbeddedPostgres(path.join(dir, 'pgdata'), await freePort());
    nats = await startNatsServer({ dir: path.join(dir, 'nats'), agentHostIds: ['emb-1'] });
    const d: Deployment = {
      root: REPO_ROOT,
      logDir: path.join(dir, 'logs'),
      natsUrl: nats.url,
      nats,
      databaseUrl: embedded.url,
      gatewayHost: '127.0.0.1',
      gatewayPort: 0,
      env: {},
      console: false,
    };
    registry = startApp(d, 'network-registry');
  });
  afterAll(async () => {
    await registry?.stop();
    await nats?.stop();
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the registry’s migrations in its own schema and serves writes and reads', async () => {
    const connectAs = (user: string) =>
      connect(natsOptions({ url: nats.url, credsFile: nats.credsFile(user), name: user }));
    const agent = await connectAs(NATS_USERS.agent('emb-1'));
    await waitFor(
      async () => {
        await busRequest(agent, 'qnet.agent.emb-1.register', {
          host_id: 'emb-1',
          hostname: 'embedded',
          underlay_ip: '127.0.0.1',
          capabilities: [],
          mode: 'dry-run',
          drivers: [],
          agent_version: 'test',
        });
        return true;
      },
      30_000,
      'registration on the embedded database',
    );
    const gw = await connectAs(NATS_USERS.gateway);
    const host = await busRequest<{ labels: Record<string, string> }>(
      gw,
      'qnet.rpc.registry.UpdateHost',
      { host_id: 'emb-1', labels: { db: 'pglite' } },
    );
    expect(host.labels).toEqual({ db: 'pglite' });
    await Promise.all([agent.close(), gw.close()]);

    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    const { rows } = await client.query(
      `SELECT table_schema FROM information_schema.tables WHERE table_name = 'hosts'`,
    );
    await client.end();
    expect(rows).toEqual([{ table_schema: 'network_registry' }]);
  });
});
