import type { NatsConnection } from '@nats-io/transport-node';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  ClientConfigView,
  EventEnvelope,
  ListConnectionsResponse,
  ListVpnServicesResponse,
  NetworkView,
  PresharedKeyView,
  VpnConnectionView,
  VpnServiceView,
} from '@qnet/contracts';
import { isWireguardKey } from '@qnet/netaddr';
import { waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

const VPN = '/limiquantix.network.v1.VpnService';

/**
 * The VPN API against a real NATS and PostgreSQL, with a dry-run agent as the gateway host:
 * validation, conflicts that change nothing, atomic allocation, secrets that never come back.
 */
describe('vpn service API', () => {
  let cluster: TestCluster;
  let observer: NatsConnection;
  let network: NetworkView;
  const events: EventEnvelope<{ action: string; vpn_service_id: string }>[] = [];
  /** Services a test made; each is deleted after its test, so every test starts from none. */
  const made: string[] = [];
  const seedService = {
    name: 'dev-vpn',
    project_id: 'default',
    router_id: 'router-456',
    external_ip: '203.0.113.10',
    local_subnets: ['10.0.1.0/24', '10.0.2.0/24'],
  };

  const call = <T = Record<string, unknown>>(method: string, body: object) =>
    cluster.http<T & { code?: string; details?: { field: string }[] }>(
      'POST',
      `${VPN}/${method}`,
      body,
    );
  const count = async (table: string) =>
    Number((await cluster.db.query<{ n: string }>(`SELECT count(*) AS n FROM vpn.${table}`))[0]!.n);
  const newService = async (extra: object = {}) => {
    const s = await cluster.api<VpnServiceView>('POST', '/api/v1/vpn-services', {
      ...seedService,
      network_id: network.id,
      ...extra,
    });
    made.push(s.id);
    return s;
  };
  const addConnection = (s: VpnServiceView, name: string, extra: object = {}) =>
    cluster.api<VpnConnectionView>('POST', `/api/v1/vpn-services/${s.id}/connections`, {
      name,
      ...extra,
    });
  const eventsOf = (s: VpnServiceView, type: string) =>
    events.filter((e) => e.type === type && e.data.vpn_service_id === s.id);
  const pubkey = async () => {
    const priv = (await execa('wg', ['genkey'])).stdout.trim();
    return (await execa('wg', ['pubkey'], { input: priv })).stdout.trim();
  };
  const expectError = (
    res: { status: number; body: { code?: string; details?: { field: string }[] } },
    status: number,
    field: string,
  ) => {
    expect({ status: res.status, fields: res.body.details?.map((d) => d.field) }).toEqual({
      status,
      fields: [field],
    });
  };

  beforeAll(async () => {
    cluster = await TestCluster.create({
      hostIds: ['gw-1'],
      env: { HEARTBEAT_INTERVAL_MS: '300', DRIVER_STATUS_INTERVAL_MS: '200' },
    });
    await cluster.startServices(['registry', 'vpn']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: 'gw-1', mode: 'dry-run' });
    observer = await cluster.connectAs('observer');
    observer.subscribe('qnet.evt.vpn.>', {
      callback: (_e, m) => {
        events.push(m.json());
      },
    });
    await cluster.waitForHosts(['gw-1']);
    network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'lan',
      bridge_name: 'qbrlan',
      cidr: '10.0.1.0/24',
    });
  });
  afterEach(async () => {
    for (const id of made.splice(0)) await cluster.http('DELETE', `/api/v1/vpn-services/${id}`);
  });
  afterAll(() => cluster?.teardown());

  it("answers the seed's CreateVpnService and keeps the gateway key sealed", async () => {
    const res = await call<VpnServiceView>('CreateVpnService', {
      ...seedService,
      network_id: network.id,
    });
    expect(res.status).toBe(200);
    const service = res.body;
    made.push(service.id);
    expect(service).toMatchObject({
      name: 'dev-vpn',
      router_id: 'router-456',
      host_id: 'gw-1',
      listen_port: 51820,
      client_pool: '10.99.0.0/24',
      local_subnets: ['10.0.1.0/24', '10.0.2.0/24'],
    });
    expect(isWireguardKey(service.public_key)).toBe(true);
    expect(JSON.stringify(service)).not.toMatch(/private/);
    const [row] = await cluster.db.query<{ private_key_sealed: string }>(
      `SELECT private_key_sealed FROM vpn.vpn_services WHERE id = $1`,
      [service.id],
    );
    expect(isWireguardKey(row!.private_key_sealed)).toBe(false);
    await waitFor(
      async () =>
        (await call<VpnServiceView>('GetVpnService', { id: service.id })).body
          .provisioning_status === 'ACTIVE',
      10_000,
      'ACTIVE once the agent applied it',
    );
  });

  it('refuses bad input with the field named, and changes nothing', async () => {
    const service = await newService();
    const before = await count('vpn_services');
    const base = {
      name: 'x',
      network_id: network.id,
      external_ip: '203.0.113.10',
      local_subnets: ['10.0.1.0/24'],
    };
    expectError(
      await call('CreateVpnService', { ...base, external_ip: '203.0.113' }),
      400,
      'external_ip',
    );
    expectError(
      await call('CreateVpnService', { ...base, local_subnets: ['10.0.1.1/24'] }),
      400,
      'local_subnets',
    );
    expectError(await call('CreateVpnService', { ...base, name: 'a\nb' }), 400, 'name');
    expectError(
      await call('CreateVpnService', { ...base, client_pool: '10.0.1.0/25' }),
      400,
      'local_subnets',
    );
    expectError(
      await call('CreateVpnService', {
        ...base,
        network_id: '00000000-0000-4000-8000-000000000000',
      }),
      404,
      'network_id',
    );
    expectError(await call('CreateVpnService', { ...base, host_id: 'nowhere' }), 404, 'host_id');
    expectError(await call('CreateVpnService', { ...base, name: 'dev-vpn' }), 409, 'name');
    expectError(
      await call('CreateVpnService', { ...base, client_pool: '10.99.0.0/25', listen_port: 51821 }),
      409,
      'client_pool',
    );
    expectError(
      await call('CreateVpnService', { ...base, client_pool: '10.98.0.0/24' }),
      409,
      'listen_port',
    );
    expect(await count('vpn_services')).toBe(before);

    const conns = await count('vpn_connections');
    const add = (body: object) =>
      call('AddConnection', { vpn_service_id: service.id, name: 'c', ...body });
    expectError(await add({ peer_public_key: 'abc123...base64...' }), 400, 'peer_public_key');
    expectError(await add({ peer_address: '10.98.0.5/32' }), 409, 'peer_address');
    expectError(await add({ peer_address: '10.99.0.1/32' }), 409, 'peer_address');
    expectError(await add({ peer_address: '10.99.0.5/24' }), 400, 'peer_address');
    expectError(await add({ preshared_key: 'short' }), 400, 'preshared_key');
    expect(await count('vpn_connections')).toBe(conns);
  });

  it('allocates client addresses atomically and refuses a duplicate key or address', async () => {
    const service = await newService();
    const added = await Promise.all(
      Array.from({ length: 20 }, (_, i) => addConnection(service, `laptop-${i}`)),
    );
    const addresses = new Set(added.map((c) => c.peer_address));
    expect(addresses.size).toBe(20);
    expect([...addresses].every((a) => /^10\.99\.0\.([2-9]|1\d|2[01])\/32$/.test(a))).toBe(true);
    for (const c of added) expect(isWireguardKey(c.private_key)).toBe(true);
    const key = await pubkey();
    const first = await call<VpnConnectionView>('AddConnection', {
      vpn_service_id: service.id,
      name: 'johns-laptop',
      peer_address: '10.99.0.100/32',
      peer_public_key: key,
    });
    expect(first.status).toBe(200);
    expect(first.body.private_key).toBeUndefined();
    expectError(
      await call('AddConnection', {
        vpn_service_id: service.id,
        name: 'other',
        peer_public_key: key,
      }),
      409,
      'peer_public_key',
    );
    expectError(
      await call('AddConnection', {
        vpn_service_id: service.id,
        name: 'other',
        peer_address: '10.99.0.100',
      }),
      409,
      'peer_address',
    );
    const page1 = await cluster.api<ListConnectionsResponse>(
      'GET',
      `/api/v1/vpn-services/${service.id}/connections?page_size=15`,
    );
    const page2 = await cluster.api<ListConnectionsResponse>(
      'GET',
      `/api/v1/vpn-services/${service.id}/connections?page_size=15&page_token=${page1.next_page_token}`,
    );
    expect(page1.connections.length + page2.connections.length).toBe(21);
    expect(page2.next_page_token).toBe('');
    expect(JSON.stringify([page1, page2])).not.toMatch(/"private_key"|"preshared_key"/);
  });

  it("returns the seed's client config; a generated PSK only once", async () => {
    const service = await newService();
    const conn = await addConnection(service, 'johns-laptop', {
      peer_address: '10.99.0.100/32',
      peer_public_key: await pubkey(),
    });
    const cfg = await call<ClientConfigView>('GetClientConfig', {
      vpn_service_id: service.id,
      connection_id: conn.id,
    });
    expect(cfg.body.config).toBe(
      [
        '[Interface]',
        '# Name: johns-laptop',
        'PrivateKey = <YOUR_PRIVATE_KEY>',
        'Address = 10.99.0.100/32',
        '',
        '[Peer]',
        '# LimiQuantix VPN Gateway',
        `PublicKey = ${service.public_key}`,
        'Endpoint = 203.0.113.10:51820',
        'AllowedIPs = 10.0.1.0/24, 10.0.2.0/24',
        'PersistentKeepalive = 25',
        '',
      ].join('\n'),
    );
    expect(cfg.body.qr_svg).toMatch(/^<svg/);
    const psk = await call<PresharedKeyView>('SetPresharedKey', {
      vpn_service_id: service.id,
      connection_id: conn.id,
    });
    expect(isWireguardKey(psk.body.preshared_key)).toBe(true);
    expect(psk.body.has_preshared_key).toBe(true);
    const again = await cluster.api<string>(
      'GET',
      `/api/v1/vpn-services/${service.id}/connections/${conn.id}/config`,
    );
    expect(JSON.stringify(again)).toContain('PresharedKey = <YOUR_PRESHARED_KEY>');
    expect(JSON.stringify(again)).not.toContain(psk.body.preshared_key);
  });

  it('audits and emits every change; secrets never reach a log', async () => {
    const service = await newService();
    const added = await Promise.all([1, 2, 3].map((i) => addConnection(service, `phone-${i}`)));
    const psk = await call<PresharedKeyView>('SetPresharedKey', {
      vpn_service_id: service.id,
      connection_id: added[0]!.id,
    });
    const secrets = [...added.map((c) => c.private_key!), psk.body.preshared_key!];
    await waitFor(
      async () =>
        eventsOf(service, 'vpn.connection.preshared_key_set').length === 1 &&
        eventsOf(service, 'vpn.connection.added').length === 3,
      5_000,
      'events on qnet.evt.vpn.>',
    );
    const audit = await cluster.api<{ events: { action: string; actor: string }[] }>(
      'GET',
      `/api/v1/vpn-services/${service.id}/audit-events?page_size=500`,
    );
    expect(audit.events[0]).toMatchObject({ action: 'vpn_service.created', actor: 'admin' });
    expect(audit.events.filter((e) => e.action === 'connection.added')).toHaveLength(3);
    const logs = ['vpn', 'node-agent-gw-1', 'gateway']
      .map((n) => readFileSync(path.join(cluster.deployment.logDir, `${n}.log`), 'utf8'))
      .join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
  });

  it('rotates the gateway key: the agent gets it, configs carry the new public key', async () => {
    const service = await newService();
    await addConnection(service, 'laptop');
    const rotated = await cluster.api<VpnServiceView>(
      'POST',
      `/api/v1/vpn-services/${service.id}/rotate-key`,
    );
    expect(isWireguardKey(rotated.public_key)).toBe(true);
    expect(rotated.public_key).not.toBe(service.public_key);
    expect(JSON.stringify(rotated)).not.toMatch(/private/);
    const conn = (
      await cluster.api<ListConnectionsResponse>(
        'GET',
        `/api/v1/vpn-services/${service.id}/connections?page_size=1`,
      )
    ).connections[0]!;
    const cfg = await cluster.api<ClientConfigView>(
      'GET',
      `/api/v1/vpn-services/${service.id}/connections/${conn.id}/config`,
    );
    expect(cfg.config).toContain(`PublicKey = ${rotated.public_key}`);
    await waitFor(
      async () =>
        (await cluster.api<VpnServiceView>('GET', `/api/v1/vpn-services/${service.id}`))
          .provisioning_status === 'ACTIVE',
      5_000,
      'the new key applied',
    );
  });

  it("puts a host-local network's gateway on that host and refuses another", async () => {
    const local = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'gw-1-lan',
      bridge_name: 'qbrgw1',
      host_id: 'gw-1',
      cidr: '10.0.7.0/24',
    });
    const before = await count('vpn_services');
    const res = await call('CreateVpnService', {
      ...seedService,
      network_id: local.id,
      host_id: 'gw-2',
    });
    expectError(res, 412, 'host_id');
    expect(await count('vpn_services')).toBe(before);
    expect((await newService({ network_id: local.id })).host_id).toBe('gw-1');
  });

  it('lists services with filters and pages', async () => {
    await newService();
    const opsNetwork = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'ops-lan',
      bridge_name: 'qbrops',
      cidr: '10.0.1.0/24',
      project_id: 'ops',
    });
    // A service lives in its network's project: another project's network is refused.
    const foreign = await cluster.http('POST', '/api/v1/vpn-services', {
      name: 'ops-vpn',
      network_id: network.id,
      project_id: 'ops',
      external_ip: '203.0.113.11',
      local_subnets: ['10.0.1.0/24'],
    });
    expect(foreign.status).toBe(412);
    expect(foreign.body).toMatchObject({ details: [{ field: 'network_id' }] });
    const other = await newService({
      name: 'ops-vpn',
      network_id: opsNetwork.id,
      project_id: 'ops',
      external_ip: '203.0.113.11',
      local_subnets: ['10.0.1.0/24'],
      listen_port: 51821,
      client_pool: '10.98.0.0/24',
    });
    const list = (q: string) =>
      cluster.api<ListVpnServicesResponse>('GET', `/api/v1/vpn-services?${q}`);
    expect((await list('project_id=ops')).vpn_services.map((s) => s.id)).toEqual([other.id]);
    expect((await list(`network_id=${network.id}`)).vpn_services).toHaveLength(1);
    const first = await list('page_size=1');
    const second = await list(`page_size=1&page_token=${first.next_page_token}`);
    expect(new Set([...first.vpn_services, ...second.vpn_services].map((s) => s.id)).size).toBe(2);
    expect(second.next_page_token).toBe('');
    expect((await cluster.http('DELETE', `/api/v1/vpn-services/${other.id}`)).status).toBe(204);
  });

  it('removes a connection and deletes the service; its audit trail stays readable', async () => {
    const service = await newService();
    const victim = await addConnection(service, 'victim');
    await addConnection(service, 'survivor');
    const res = await cluster.http(
      'DELETE',
      `/api/v1/vpn-services/${service.id}/connections/${victim.id}`,
    );
    expect(res.status).toBe(204);
    expect(
      (await cluster.http('DELETE', `/api/v1/vpn-services/${service.id}/connections/${victim.id}`))
        .status,
    ).toBe(404);
    expect((await cluster.http('DELETE', `/api/v1/vpn-services/${service.id}`)).status).toBe(204);
    expect((await cluster.http('GET', `/api/v1/vpn-services/${service.id}`)).status).toBe(404);
    const [left] = await cluster.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM vpn.vpn_connections WHERE vpn_service_id = $1`,
      [service.id],
    );
    expect(Number(left!.n)).toBe(0);
    const audit = await cluster.api<{ events: { action: string }[] }>(
      'GET',
      `/api/v1/vpn-services/${service.id}/audit-events?page_size=500`,
    );
    expect(audit.events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['connection.removed', 'vpn_service.deleted']),
    );
  });
});
