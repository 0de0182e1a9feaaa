import { BUS_SERVICES } from '@qnet/contracts';
import { TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

describe('every app boots against a real NATS and PostgreSQL', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: ['boot-1'] });
    await cluster.startServices();
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: 'boot-1', mode: 'dry-run' });
  });
  afterAll(() => cluster.teardown());

  it('reports ready with every service answering and its database check passing', async () => {
    await waitFor(
      async () => (await fetch(`${cluster.gatewayUrl}/ready`)).status === 200,
      15_000,
      '/ready',
    );
    const body = (await (await fetch(`${cluster.gatewayUrl}/ready`)).json()) as {
      status: string;
      details: Record<string, { status: string; checks?: Record<string, string> }>;
    };
    expect(body.status).toBe('ok');
    expect(body.details.nats!.status).toBe('up');
    for (const s of BUS_SERVICES) {
      expect(body.details[s.id]).toMatchObject({ status: 'up', checks: { database: 'ok' } });
    }
  });

  it('runs each service in its own PostgreSQL schema with its migrations applied', async () => {
    const schemas = await cluster.db.query<{ schema_name: string }>(
      `SELECT schema_name FROM information_schema.schemata WHERE schema_name = ANY($1) ORDER BY 1`,
      [BUS_SERVICES.map((s) => s.app.replace('-', '_'))],
    );
    expect(schemas.map((s) => s.schema_name).sort()).toEqual(
      BUS_SERVICES.map((s) => s.app.replace('-', '_')).sort(),
    );
    const [migration] = await cluster.db.query<{ name: string }>(
      `SELECT name FROM network_registry.migrations`,
    );
    expect(migration?.name).toBe('Hosts1732200000000');
  });

  it('the local agent registers its host', async () => {
    await cluster.waitForHosts(['boot-1'], 10_000);
  });

  it('every app drains and exits 0 on SIGTERM, leaving no database connections', async () => {
    const names = [...cluster.apps.keys()];
    const codes = await Promise.all(names.map((n) => cluster.stop(n)));
    expect(Object.fromEntries(names.map((n, i) => [n, codes[i]]))).toEqual(
      Object.fromEntries(names.map((n) => [n, 0])),
    );
    const conns = await cluster.db.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'qnet-%'`,
      [cluster.db.name],
    );
    expect(conns).toHaveLength(0);
    for (const n of names) {
      const errors = (await cluster.logs(n)).filter((l) => (l.level as number) >= 50);
      expect({ app: n, errors }).toEqual({ app: n, errors: [] });
    }
  });
});
