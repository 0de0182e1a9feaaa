import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { encodeJson, NATS_USERS } from '@qnet/bus';
import {
  BUS_SERVICES,
  isClusterProtoRpc,
  Subjects,
  type NetworkView,
  type NicView,
  type VpnConnectionView,
} from '@qnet/contracts';
import { PROJECT_HEADER } from '@qnet/runtime';
import {
  addSampleBgp,
  ApiCaller,
  apiOperations,
  createSampleProject,
  databaseFingerprint,
  RPC_SAMPLES,
  rpcOf,
  SAMPLE_WG_KEY,
  TestCluster,
  type Operation,
  type Refs,
  type Reply,
} from '@qnet/testing';

const TOKENS = {
  a: 'tok-project-a-0123456789',
  b: 'tok-project-b-0123456789',
  admin: 'tok-admin-0123456789abc',
};
const HOST = 'tenant-1';

/**
 * Tenant isolation (README, "Tenancy"), for every RPC of the proto catalog and every REST route of the
 * gateway (read from its OpenAPI document, so a new one is covered at once): project A's token,
 * aimed at project B's resources, gets 404 (or 403 for another project's list or the cluster's own
 * operations) and changes nothing — through the gateway, and straight on the bus with A's scope,
 * past the gateway's own checks.
 */
describe('tenant isolation', () => {
  let cluster: TestCluster;
  let ops: Operation[];
  let b: Refs;
  let a: Refs;

  const caller = (token: string) => new ApiCaller(cluster.gatewayUrl, token);
  const http = (token: string, method: string, path: string, body?: unknown) =>
    caller(token).http(method, path, body);
  const make = <T>(token: string, method: string, path: string, body?: unknown) =>
    caller(token).make<T>(method, path, body);
  const rpc = <T>(token: string, service: string, method: string, body: object) =>
    caller(token).rpc<T>(service, method, body);
  const fingerprint = () => databaseFingerprint(cluster.db);

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: [HOST] });
    await cluster.startServices();
    await cluster.startGateway({
      GATEWAY_AUTH: 'required',
      QNET_API_TOKENS: `proj-a:${TOKENS.a},proj-b:${TOKENS.b},*:${TOKENS.admin}`,
    });
    cluster.start('node-agent', { hostId: HOST, mode: 'dry-run' });
    await cluster.waitForHosts([HOST]);
    ops = await apiOperations(cluster.gatewayUrl);

    b = await createSampleProject(caller(TOKENS.b), 'proj-b', HOST, {
      cidr: '10.77.0',
      vpnPort: 51821,
      clientPool: '10.99.0.0/24',
    });
    a = await createSampleProject(caller(TOKENS.a), 'proj-a', HOST, {
      cidr: '10.76.0',
      vpnPort: 51820,
      clientPool: '10.98.0.0/24',
    });
    // One BGP speaker per node: B has it; A has none to confuse with.
    await addSampleBgp(caller(TOKENS.b), b, { prefix: '10.77.0.0/24', password: 'md5-secret-b' });
    Object.assign(b, { device: 'endpoint_b', endpoint: 'endpoint_b' });
    await make(TOKENS.admin, 'POST', '/api/v1/devices', {
      device_id: 'endpoint_b',
      type: 'endpoint',
      name: 'endpoint b',
    });
  }, 120_000);
  afterAll(() => cluster?.teardown());

  /** B's ids, which A must never see, and must never see change. */
  const idsOfB = () =>
    Object.entries(b)
      .filter(([k, v]) => !['project', 'host', 'device', 'endpoint'].includes(k) && v)
      .map(([, v]) => v);

  /**
   * A request naming B's resources or project gets 404 or 403 (403 always for the cluster's own
   * operations); one naming nothing of B's (a list of one's own, a shared host) may succeed. No
   * reply shows an id of B's the request did not already name.
   */
  const judge = (op: Operation, request: string, res: Reply, failures: string[]) => {
    const leaked = idsOfB().filter((id) => res.text.includes(id) && !request.includes(id));
    if (leaked.length) failures.push(`${op.name}: ${res.status} shows B's ${leaked.join(', ')}`);
    const named = rpcOf(op);
    const cluster = named
      ? isClusterProtoRpc(named.service, named.method)
      : /^\S+ \/api\/v1\/(devices|tunnel)|^(PATCH|POST) \/v1\/hosts|^\S+ \/v1\/join-tokens/.test(
          op.name,
        );
    const namesB = [...idsOfB(), b.project].some((id) => request.includes(id));
    const expected = cluster ? [403] : namesB ? [403, 404] : [200];
    if (!expected.includes(res.status))
      failures.push(`${op.name}: ${res.status} (expected ${expected.join('/')}) ${res.text}`);
  };

  it('finds a sample request for every RPC and REST route', () => {
    const rpcs = ops.filter((o) => rpcOf(o)).map((o) => o.name);
    expect(rpcs.sort()).toEqual(Object.keys(RPC_SAMPLES).sort());
    expect(ops.length - rpcs.length).toBeGreaterThan(50);
  });

  it("gives project A's token 403/404 for every operation on B's resources, and changes nothing", async () => {
    const before = await fingerprint();
    const failures: string[] = [];
    for (const op of ops) {
      const body = op.body?.(b);
      const request = `${op.path(b)} ${JSON.stringify(body ?? {})}`;
      judge(op, request, await http(TOKENS.a, op.method, op.path(b), body), failures);
    }
    expect(failures).toEqual([]);
    expect(await fingerprint()).toEqual(before);
    // B's resources are all still there for B, and for the admin.
    await make(TOKENS.b, 'GET', `/v1/nics/${b.nic}`);
    await make(TOKENS.admin, 'GET', `/api/v1/load-balancers/${b.lb}`);
  }, 120_000);

  it('enforces the scope in every service, not only in the gateway', async () => {
    // Straight on the bus as the gateway would send it, with A's scope: only the services judge.
    const nc: NatsConnection = await cluster.connectAs(NATS_USERS.gateway);
    const before = await fingerprint();
    const failures: string[] = [];
    for (const op of ops) {
      const named = rpcOf(op);
      if (!named) continue;
      const service = BUS_SERVICES.find((s) => s.proto === named.service)!;
      const h = natsHeaders();
      h.set(PROJECT_HEADER, a.project);
      const body = op.body!(b);
      const msg = await nc.request(Subjects.rpc(service.id, named.method), encodeJson(body), {
        timeout: 5_000,
        headers: h,
      });
      const reply = msg.json<{ error?: { code: string } }>();
      const status =
        reply.error?.code === 'not_found'
          ? 404
          : reply.error?.code === 'permission_denied'
            ? 403
            : reply.error
              ? 500
              : 200;
      judge(op, JSON.stringify(body), { status, text: msg.string() }, failures);
    }
    expect(failures).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  }, 120_000);

  it('lets a project see only its own resources in every list', async () => {
    const lists = [
      '/v1/networks',
      '/v1/nics',
      '/api/v1/load-balancers',
      '/api/v1/vpn-services',
      '/api/v1/bgp-speakers',
    ];
    for (const path of lists) {
      const res = await http(TOKENS.a, 'GET', path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(idsOfB().filter((id) => res.text.includes(id))).toEqual([]);
      const forbidden = await http(TOKENS.a, 'GET', `${path}?project_id=proj-b`);
      if (path !== '/v1/nics')
        expect({ path, status: forbidden.status }).toEqual({ path, status: 403 });
    }
    // The Connect path (answered from node:http, not through Nest's guard) checks alike.
    const listNetworks = '/limiquantix.network.v1.NetworkRegistryService/ListNetworks';
    const statuses = await Promise.all([
      http(TOKENS.a, 'POST', `${listNetworks}?project_id=proj-b`, {}),
      http(TOKENS.a, 'POST', listNetworks, { project_id: 'proj-b' }),
      http('', 'POST', listNetworks, {}),
      http('tok-nobody-0123456789abc', 'POST', listNetworks, {}),
    ]);
    expect(statuses.map((r) => r.status)).toEqual([403, 403, 401, 401]);
    const viaConnect = await http(TOKENS.a, 'POST', listNetworks, {});
    expect(viaConnect.status).toBe(200);
    expect(idsOfB().filter((id) => viaConnect.text.includes(id))).toEqual([]);
    expect(viaConnect.text).toContain(a.network);
    const own = await make<NetworkView[]>(TOKENS.a, 'GET', '/v1/networks');
    expect(own.map((n) => n.id)).toEqual([a.network]);
    const nics = await make<NicView[]>(TOKENS.a, 'GET', '/v1/nics');
    expect(nics.map((n) => n.id)).toEqual([a.nic]);
    const all = await make<NetworkView[]>(TOKENS.admin, 'GET', '/v1/networks');
    expect(all.map((n) => n.id).sort()).toEqual([a.network, b.network].sort());
  });

  it("does not let A attach to B's bridge by name, nor create in B's project", async () => {
    const byBridge = await http(TOKENS.a, 'POST', '/v1/nics', {
      bridge_name: 'qbrproj-b',
      host_id: HOST,
      vm_id: 'sneaky',
    });
    expect(byBridge.status).toBe(409);
    expect(byBridge.text).not.toContain(b.network);
    const create = await http(TOKENS.a, 'POST', '/v1/networks', {
      name: 'x',
      bridge_name: 'qbrx',
      project_id: 'proj-b',
    });
    expect(create.status).toBe(403);
    // A's own connection still works end to end: the generated key pair came back once.
    const mine = await rpc<VpnConnectionView>(TOKENS.a, 'VpnService', 'AddConnection', {
      vpn_service_id: a.vpn,
      name: 'second',
      peer_public_key: SAMPLE_WG_KEY,
    });
    expect(mine.vpn_service_id).toBe(a.vpn);
  });

  it("gives each project its own answers under one Idempotency-Key: never another project's", async () => {
    const keyed = (token: string, body: object) =>
      fetch(`${cluster.gatewayUrl}/v1/networks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': 'shared-key',
        },
        body: JSON.stringify(body),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { id: string; name: string },
      }));
    const fromA = await keyed(TOKENS.a, {
      name: 'idem-a',
      bridge_name: 'bridema',
      cidr: '10.201.0.0/24',
    });
    const fromB = await keyed(TOKENS.b, {
      name: 'idem-b',
      bridge_name: 'bridemb',
      cidr: '10.202.0.0/24',
    });
    expect([fromA.status, fromB.status]).toEqual([201, 201]);
    expect(fromB.body.id).not.toBe(fromA.body.id);
    expect(fromB.body.name).toBe('idem-b');
    // Each project's repeat gets its own first answer.
    expect(
      (await keyed(TOKENS.a, { name: 'idem-a', bridge_name: 'bridema', cidr: '10.201.0.0/24' }))
        .body.id,
    ).toBe(fromA.body.id);
    expect(
      (await keyed(TOKENS.b, { name: 'idem-b', bridge_name: 'bridemb', cidr: '10.202.0.0/24' }))
        .body.id,
    ).toBe(fromB.body.id);
  });

  it("keeps a host's physical LAN the admin's: a project's bridged network is a 403; one the admin gives it, it uses", async () => {
    const lan = { name: 'lan', bridge_name: 'qbrlan', host_id: HOST, mode: 'bridged' };
    const refused = await http(TOKENS.a, 'POST', '/v1/networks', {
      ...lan,
      uplink_interface: 'eth0',
    });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('"field":"mode"');
    expect(
      (await make<NetworkView[]>(TOKENS.a, 'GET', '/v1/networks')).map((n) => n.name),
    ).not.toContain('lan');
    const given = await make<NetworkView>(TOKENS.admin, 'POST', '/v1/networks', {
      ...lan,
      uplink_interface: 'eth1',
      project_id: 'proj-a',
    });
    const nic = await make<NicView>(TOKENS.a, 'POST', '/v1/nics', {
      network_id: given.id,
      host_id: HOST,
      vm_id: 'lan-vm',
    });
    // B sees neither.
    expect((await http(TOKENS.b, 'GET', `/v1/networks/${given.id}`)).status).toBe(404);
    expect((await http(TOKENS.a, 'DELETE', `/v1/nics/${nic.id}`)).status).toBe(204);
    expect((await http(TOKENS.a, 'DELETE', `/v1/networks/${given.id}`)).status).toBe(204);
  });
});
