import { busRequest } from '@qnet/bus';
import type { DesiredState } from '@qnet/contracts';
import { ExecaExecutor, linuxDriver, reconcile } from '@qnet/drivers';
import { Netns, TestCluster } from '@qnet/testing';
import { closedLoop, round } from './measure.js';

/**
 * B3: 100,000 NICs in the registry (bulk-loaded with SQL: 20 networks × 5,000). Measures API list
 * latency with keyset pagination (first and deep pages) and the resync of a host whose overlay
 * holds 5,000 remote NICs: registry render of its desired state, first apply on a real kernel
 * (namespace), and the periodic no-op resync (observe + plan).
 */
export interface B3Result {
  nics: number;
  figures: Record<string, string>;
}

const NETWORKS = 20;
const PER_NETWORK = 5_000;

async function load(cluster: TestCluster): Promise<void> {
  const q = (sql: string) => cluster.db.query(sql);
  await q(`INSERT INTO network_registry.hosts (id, hostname, underlay_ip, mode, agent_version, capabilities)
    VALUES ('b3-a', 'b3-a', '192.0.2.10', 'dry-run', 'bench', '{bridge,vxlan}'),
           ('b3-b', 'b3-b', '192.0.2.11', 'dry-run', 'bench', '{bridge,vxlan}')`);
  await q(`INSERT INTO network_registry.networks (name, type, vni, bridge_name, cidr, mtu, project_id)
    SELECT 'b3-' || i, 'overlay', 4000 + i, 'qbr' || (4000 + i), ('10.' || (100 + i) || '.0.0/16')::cidr, 1450, 'bench'
    FROM generate_series(0, ${NETWORKS - 1}) i`);
  await q(`INSERT INTO network_registry.network_hosts (network_id, host_id, explicit)
    SELECT n.id, h, true FROM network_registry.networks n, unnest(ARRAY['b3-a', 'b3-b']) h WHERE n.name LIKE 'b3-%'`);
  await q(`INSERT INTO network_registry.ip_allocations (network_id, address, owner_kind)
    SELECT n.id, host(network(n.cidr))::inet + g, 'nic' FROM network_registry.networks n, generate_series(1, ${PER_NETWORK}) g
    WHERE n.name LIKE 'b3-%'`);
  await q(`INSERT INTO network_registry.nics (network_id, vm_id, iface_id, kind, host_id, guest_mac, ip_address, host_dev_name, generation)
    SELECT n.id, 'vm-' || (n.vni - 4000) || '-' || g, 'eth0', 'tap', 'b3-b',
      ('02:00:' || lpad(to_hex(n.vni - 4000), 2, '0') || ':' || lpad(to_hex(g >> 16), 2, '0') || ':' ||
        lpad(to_hex((g >> 8) & 255), 2, '0') || ':' || lpad(to_hex(g & 255), 2, '0'))::macaddr,
      host(network(n.cidr))::inet + g, 't' || (n.vni - 4000) || '-' || g, 1
    FROM network_registry.networks n, generate_series(1, ${PER_NETWORK}) g WHERE n.name LIKE 'b3-%'`);
  // What autovacuum does soon after a bulk load (it vacuums after inserts since PostgreSQL 13):
  // statistics, and the visibility map that index-only scans rely on.
  await q(`VACUUM ANALYZE`);
}

async function timeGet(url: string): Promise<{ p50: number; p99: number }> {
  const r = await closedLoop(
    async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(String(res.status));
      await res.arrayBuffer();
    },
    1,
    2_000,
    300,
  );
  return { p50: r.p50_ms, p99: r.p99_ms };
}

export async function runB3(): Promise<B3Result> {
  const cluster = await TestCluster.create({ hostIds: ['b3-a'], env: { LOG_LEVEL: 'warn' } });
  const ns = await Netns.create('qb3');
  try {
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    const t0 = performance.now();
    await load(cluster);
    const loadS = (performance.now() - t0) / 1000;
    const figures: Record<string, string> = { 'bulk load (SQL)': `${round(loadS, 1)} s` };
    const base = cluster.gatewayUrl;

    const first = await timeGet(`${base}/v1/nics?page_size=100`);
    figures['GET /v1/nics?page_size=100, first page'] = `p50 ${first.p50} ms, p99 ${first.p99} ms`;
    // Walk 500 pages in, then time that deep page: keyset pagination keeps it flat.
    let token = '';
    for (let i = 0; i < 500; i++) {
      const res = await fetch(
        `${base}/v1/nics?page_size=100${token ? `&page_token=${token}` : ''}`,
      );
      token = res.headers.get('x-next-page-token') ?? '';
      await res.arrayBuffer();
    }
    const deep = await timeGet(`${base}/v1/nics?page_size=100&page_token=${token}`);
    figures['same, page 501 (row 50,000)'] = `p50 ${deep.p50} ms, p99 ${deep.p99} ms`;
    const net = (await (await fetch(`${base}/v1/networks?name=b3-7`)).json()) as { id: string }[];
    const filtered = await timeGet(`${base}/v1/nics?page_size=100&network_id=${net[0]!.id}`);
    figures['GET /v1/nics filtered by network_id'] =
      `p50 ${filtered.p50} ms, p99 ${filtered.p99} ms`;
    const nets = await timeGet(`${base}/v1/networks?page_size=50`);
    figures['GET /v1/networks?page_size=50'] = `p50 ${nets.p50} ms, p99 ${nets.p99} ms`;

    // Host b3-a: one overlay's 5,000 remote NICs (fdb + neighbour entries); the bench keeps one network.
    await cluster.db.query(
      `DELETE FROM network_registry.network_hosts WHERE host_id = 'b3-a' AND network_id <> $1`,
      [net[0]!.id],
    );
    const agent = await cluster.connectAs('agent-b3-a');
    const r0 = performance.now();
    const state = await busRequest<DesiredState>(
      agent,
      'qnet.agent.b3-a.desired.linux',
      { host_id: 'b3-a' },
      { timeoutMs: 30_000 },
    );
    figures['registry render of a 5,000-NIC desired state (pull)'] =
      `${round(performance.now() - r0, 1)} ms`;
    const linux = linuxDriver();
    const spec = linux.parse(state.spec);
    const exec = new ExecaExecutor({ netns: ns.name, timeoutMs: 60_000 });
    const a0 = performance.now();
    const applied = await reconcile(linux, exec, spec, undefined);
    figures[`first apply on a real kernel (${applied.changes.length} commands, batched)`] =
      `${round(performance.now() - a0, 0)} ms`;
    const s0 = performance.now();
    const resync = await reconcile(linux, exec, spec, spec);
    figures[`agent resync with 5,000 entries (observe + plan; ${resync.changes.length} changes)`] =
      `${round(performance.now() - s0, 0)} ms`;
    await exec.close();
    return { nics: NETWORKS * PER_NETWORK, figures };
  } finally {
    await cluster.teardown();
    await ns.delete();
  }
}
