import { busRequest } from '@qnet/bus';
import type { NetworkView, NicView } from '@qnet/contracts';
import pg from 'pg';
import { TEST_SERVER_URL, TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

const POOL = 3;
const RPC_TIMEOUT_MS = 1_500;

/**
 * The registry under more concurrent work than its pool holds, and with its database or the bus
 * taken away: every answer is either the truth (2xx, 4xx) or a 503 that changed nothing, and
 * the service heals by itself.
 */
describe('honest answers under load and faults', () => {
  let cluster: TestCluster;
  type Body = Record<string, unknown> & { code?: string; message?: string };
  const api = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${cluster.gatewayUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (res) => {
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body };
    });
  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    Number(
      (
        await cluster.db.query<{ n: string }>(
          `SELECT count(*) AS n FROM network_registry.${table} WHERE ${where}`,
          params,
        )
      )[0]!.n,
    );
  const newNetwork = async (name: string, cidr: string) => {
    const res = await api('POST', '/v1/networks', {
      name,
      bridge_name: `br${name}`.slice(0, 15),
      cidr,
    });
    expect(res.status).toBe(201);
    return res.body as unknown as NetworkView;
  };

  beforeAll(async () => {
    cluster = await TestCluster.create({
      hostIds: ['h1'],
      env: { DATABASE_POOL_SIZE: String(POOL) },
    });
    await cluster.startServices(['registry']);
    // A tight bound on every bus call, so 300 attaches cannot all be answered within it.
    await cluster.startGateway({ RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS) });
    await busRequest(await cluster.connectAs('agent-h1'), 'qnet.agent.h1.register', {
      host_id: 'h1',
      hostname: 'h1',
      underlay_ip: '192.0.2.1',
      capabilities: ['bridge', 'vxlan', 'nft_bridge'],
      mode: 'dry-run',
      drivers: ['linux'],
      agent_version: 'test',
    });
  });
  afterAll(() => cluster.teardown());

  it('300 concurrent attaches on a /24: no 5xx hides a committed NIC', async () => {
    const net = await newNetwork('attach300', '10.30.0.0/24');
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        api('POST', '/v1/nics', { network_id: net.id, host_id: 'h1', vm_id: `vm-${i}` }).then(
          (r) => ({ ...r, vm: `vm-${i}` }),
        ),
      ),
    );
    const byStatus: Record<number, number> = {};
    for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const stored = new Set(
      (
        await cluster.db.query<{ vm_id: string }>(
          'SELECT vm_id FROM network_registry.nics WHERE network_id = $1',
          [net.id],
        )
      ).map((r) => r.vm_id),
    );
    const lying = results.filter((r) => r.status >= 500 && stored.has(r.vm));
    const lost = results.filter((r) => r.status === 201 && !stored.has(r.vm));
    console.log(
      `300 attaches in ${Date.now() - started} ms: ${JSON.stringify(byStatus)}, ${stored.size} stored, ${lying.length} 5xx-but-committed`,
    );
    expect(lying).toEqual([]);
    expect(lost).toEqual([]);
    // 504 only when the reply could not be sent in time (nothing committed: checked above).
    for (const r of results) expect([201, 409, 503, 504]).toContain(r.status);
    const ips = results
      .filter((r) => r.status === 201)
      .map((r) => (r.body as unknown as NicView).ip_address);
    expect(new Set(ips).size).toBe(ips.length);
  });

  it('300 concurrent attaches with idempotency keys and retries: each caller learns its outcome', async () => {
    const net = await newNetwork('retry300', '10.31.0.0/24');
    const attach = async (i: number) => {
      for (let attempt = 1; ; attempt++) {
        const r = await api(
          'POST',
          '/v1/nics',
          { network_id: net.id, host_id: 'h1', vm_id: `keyed-${i}` },
          { 'Idempotency-Key': `attach-${net.id}-${i}` },
        );
        if (r.status < 500) return { ...r, attempt };
        await new Promise((res) => setTimeout(res, 20 * attempt));
      }
    };
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => attach(i)));
    const created = results.filter((r) => r.status === 201);
    console.log(
      `300 keyed attaches with retries in ${Date.now() - started} ms: ${created.length} created, ${results.length - created.length} refused (pool full), up to ${Math.max(...results.map((r) => r.attempt))} attempts`,
    );
    // A /24 without a gateway: 254 addresses; every other caller is told the pool is exhausted.
    expect(created).toHaveLength(254);
    expect(await count('nics', 'network_id = $1', [net.id])).toBe(254);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(254);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.message).toMatch(/pool exhausted/);
    }
  });

  it('an Idempotency-Key gives a repeat — sequential or racing — the first answer and one row', async () => {
    const net = await newNetwork('idem', '10.32.0.0/24');
    const body = { network_id: net.id, host_id: 'h1', vm_id: 'vm-idem' };
    const key = { 'Idempotency-Key': 'idem-1' };
    const [first, ...racing] = await Promise.all(
      Array.from({ length: 8 }, () => api('POST', '/v1/nics', body, key)),
    );
    expect(first!.status).toBe(201);
    for (const r of racing) expect(r).toEqual(first);
    const again = await api('POST', '/v1/nics', body, key);
    expect(again).toEqual(first);
    expect(await count('nics', 'network_id = $1', [net.id])).toBe(1);
    // The same key for a different request is refused, naming the header; nothing is created.
    const other = await api('POST', '/v1/nics', { ...body, vm_id: 'vm-other' }, key);
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ details: [{ field: 'Idempotency-Key' }] });
    expect(await count('nics', 'network_id = $1', [net.id])).toBe(1);
    // An unusable key is refused before anything runs.
    const bad = await api(
      'POST',
      '/v1/nics',
      { ...body, vm_id: 'vm-bad' },
      { 'Idempotency-Key': 'x y' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ details: [{ field: 'Idempotency-Key' }] });
    // Without a key a repeat is a new request: the second attach of the same VM conflicts.
    const { id: nicId } = first!.body as { id: string };
    expect(
      (await api('DELETE', `/v1/nics/${nicId}`, undefined, { 'Idempotency-Key': 'del-1' })).status,
    ).toBe(204);
    expect(
      (await api('DELETE', `/v1/nics/${nicId}`, undefined, { 'Idempotency-Key': 'del-1' })).status,
    ).toBe(204);
    expect((await api('DELETE', `/v1/nics/${nicId}`)).status).toBe(404);
  });

  it('40 concurrent deletes: all answered, and the registry keeps answering meanwhile', async () => {
    const nets = await Promise.all(
      Array.from({ length: 40 }, (_, i) => newNetwork(`del${i}`, `10.40.${i}.0/24`)),
    );
    const deletes = Promise.all(nets.map((n) => api('DELETE', `/v1/networks/${n.id}`)));
    const probe = Date.now();
    const hosts = await api('GET', '/v1/hosts');
    const probeMs = Date.now() - probe;
    const results = await deletes;
    console.log(
      `40 deletes: ${JSON.stringify(results.map((r) => r.status).sort())}; /v1/hosts meanwhile in ${probeMs} ms`,
    );
    expect(hosts.status).toBe(200);
    for (const r of results) expect([200, 204, 503]).toContain(r.status);
    const gone = results.filter((r) => r.status < 300).length;
    expect(await count('networks', 'id = ANY($1::uuid[])', [nets.map((n) => n.id)])).toBe(
      40 - gone,
    );
    const ready = await api('GET', '/ready');
    expect(ready.body).toMatchObject({ details: { registry: { status: 'up' } } });
  });

  it('every registry mutation makes progress at twice the pool size of concurrent calls', async () => {
    const n = 2 * POOL;
    const all = async (label: string, call: (i: number) => ReturnType<typeof api>) => {
      const results = await Promise.all(Array.from({ length: n }, (_, i) => call(i)));
      expect({ label, statuses: results.map((r) => r.status) }).toEqual({
        label,
        statuses: results.map((r) => (r.status < 300 ? r.status : `${r.status} ${r.body.message}`)),
      });
      for (const r of results) expect(r.status).toBeLessThan(300);
      return results.map((r) => r.body as { id: string });
    };
    const nets = await all('create network', (i) =>
      api('POST', '/v1/networks', {
        name: `prog${i}`,
        bridge_name: `brprog${i}`,
        cidr: `10.60.${i}.0/24`,
      }),
    );
    await all('update network', (i) =>
      api('PATCH', `/v1/networks/${nets[i]!.id}`, { description: `d${i}` }),
    );
    const nics = await all('attach', (i) =>
      api('POST', '/v1/nics', { network_id: nets[i % 2]!.id, host_id: 'h1', vm_id: `prog-${i}` }),
    );
    await all('update host', (i) => api('PATCH', '/v1/hosts/h1', { labels: { round: String(i) } }));
    await all('detach', (i) => api('DELETE', `/v1/nics/${nics[i]!.id}`));
    await all('delete network', (i) => api('DELETE', `/v1/networks/${nets[i]!.id}`));
  });

  /** Runs `fn` on the server's admin database (not the one the test takes away). */
  const asAdmin = async (fn: (c: pg.Client) => Promise<unknown>) => {
    const admin = new pg.Client({ connectionString: TEST_SERVER_URL });
    await admin.connect();
    try {
      await fn(admin);
    } finally {
      await admin.end();
    }
  };

  it('a lost database is a 503 naming the service, /ready says which, and it heals by itself', async () => {
    const name = cluster.db.name;
    await asAdmin(async (c) => {
      await c.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
      await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'qnet-%'`,
        [name],
      );
    });
    let healed = 0;
    try {
      const started = Date.now();
      const list = await api('GET', '/v1/networks');
      const create = await api('POST', '/v1/networks', {
        name: 'while-down',
        bridge_name: 'brdown',
        cidr: '10.50.0.0/24',
      });
      console.log(
        `database away: list ${list.status} and create ${create.status} in ${Date.now() - started} ms`,
      );
      for (const r of [list, create]) {
        expect(r.status).toBe(503);
        expect(r.body).toMatchObject({
          code: 'unavailable',
          message: expect.stringContaining('registry'),
        });
      }
      const ready = await api('GET', '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ details: { registry: { status: 'down' } } });
      expect(JSON.stringify(ready.body.details)).toMatch(/database/);
    } finally {
      await asAdmin((c) => c.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`));
      healed = Date.now();
    }
    await waitFor(
      async () => (await api('GET', '/v1/networks')).status === 200,
      10_000,
      'the registry to heal',
    );
    console.log(`database back: the registry answered 200 after ${Date.now() - healed} ms`);
    expect(await count('networks', "name = 'while-down'")).toBe(0);
  });

  it('while NATS is away the gateway answers 503 at once, and reconnects by itself', async () => {
    await cluster.nats.stop();
    let back = 0;
    try {
      await waitFor(
        async () => (await api('GET', '/ready')).status === 503,
        5_000,
        '/ready to see NATS gone',
      );
      const started = Date.now();
      const r = await api('GET', '/v1/networks');
      const ms = Date.now() - started;
      console.log(`NATS away: ${r.status} in ${ms} ms`);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({
        code: 'unavailable',
        message: expect.stringContaining('NATS'),
      });
      expect(ms).toBeLessThan(500);
    } finally {
      await cluster.nats.start();
      back = Date.now();
    }
    await waitFor(
      async () => (await api('GET', '/v1/networks')).status === 200,
      15_000,
      'the gateway to reconnect',
    );
    console.log(`NATS back: 200 after ${Date.now() - back} ms`);
  });
});
