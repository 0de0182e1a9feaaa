import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest } from '@qnet/bus';
import {
  Subjects,
  type EventEnvelope,
  type ListenerView,
  type ListLoadBalancersResponse,
  type LoadBalancerStatsView,
  type LoadBalancerView,
  type MemberView,
  type NetworkView,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

const LB = '/limiquantix.network.v1.LoadBalancerService';
const REST = '/api/v1/load-balancers';

/** A TCP health check probing each member's own port (no port of its own). */
const TCP_CHECK = {
  protocol: 'TCP',
  interval_sec: 5,
  timeout_sec: 3,
  unhealthy_threshold: 3,
  healthy_threshold: 2,
} as const;

type ErrorBody = { code?: string; message?: string; details?: { field: string }[] };

/**
 * The lb API against a real NATS and PostgreSQL, with dry-run agents as hosts: the seed's requests,
 * validation that names the field and changes nothing, invariants held by the database under
 * concurrency, the VIP held in the registry's IPAM, placement and failover.
 */
describe('lb service API', () => {
  let cluster: TestCluster;
  let observer: NatsConnection;
  let net: NetworkView;
  const events: EventEnvelope<Record<string, unknown>>[] = [];

  const call = <T = Record<string, unknown>>(method: string, body: object) =>
    cluster.http<T & ErrorBody>('POST', `${LB}/${method}`, body);
  const rpc = <T>(method: string, body: object) => cluster.api<T>('POST', `${LB}/${method}`, body);
  const counts = async () =>
    (
      await cluster.db.query<{ b: string; l: string; m: string; h: string }>(
        `SELECT (SELECT count(*) FROM lb.load_balancers) AS b, (SELECT count(*) FROM lb.lb_listeners) AS l,
           (SELECT count(*) FROM lb.lb_members) AS m, (SELECT count(*) FROM lb.lb_health_checks) AS h`,
      )
    )[0];
  /** A load balancer of the test's own (VIP from IPAM unless given). */
  const newLb = (name: string, over: object = {}) =>
    rpc<LoadBalancerView>('CreateLoadBalancer', { name, network_id: net.id, ...over });
  /** Waits until the load balancer's host reported it applied (provisioning ACTIVE). */
  const untilActive = (lb: LoadBalancerView, what = 'ACTIVE') =>
    waitFor(
      async () =>
        (await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id })).provisioning_status ===
        'ACTIVE',
      10_000,
      what,
    );
  const expectError = (res: { status: number; body: ErrorBody }, status: number, field: string) =>
    expect({ status: res.status, fields: res.body.details?.map((d) => d.field) }).toEqual({
      status,
      fields: [field],
    });

  beforeAll(async () => {
    cluster = await TestCluster.create({
      hostIds: ['lb-1', 'lb-2', 'no-nft'],
      env: {
        HEARTBEAT_INTERVAL_MS: '300',
        HOST_HEALTHY_WINDOW_MS: '1500',
        HOST_SWEEP_INTERVAL_MS: '200',
        LB_FAILOVER_SWEEP_MS: '300',
      },
    });
    await cluster.startServices(['registry', 'lb']);
    await cluster.startGateway();
    for (const hostId of ['lb-1', 'lb-2']) cluster.start('node-agent', { hostId, mode: 'dry-run' });
    // A host whose agent found no nftables.
    await busRequest(await cluster.connectAs('agent-no-nft'), Subjects.agentRegister('no-nft'), {
      host_id: 'no-nft',
      hostname: 'no-nft',
      underlay_ip: '192.0.2.9',
      capabilities: ['bridge'],
      mode: 'dry-run',
      drivers: ['linux'],
      agent_version: 'test',
    });
    observer = await cluster.connectAs('observer');
    observer.subscribe('qnet.evt.lb.>', {
      callback: (_e, m) => {
        events.push(m.json());
      },
    });
    await cluster.waitForHosts(['lb-1', 'lb-2', 'no-nft']);
    net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'web',
      bridge_name: 'qbrweb',
      cidr: '10.0.0.0/16',
    });
  });
  afterAll(() => cluster?.teardown());

  it("takes the seed's requests as written and provisions the LB", async () => {
    const lb = await rpc<LoadBalancerView>('CreateLoadBalancer', {
      name: 'web-lb',
      network_id: net.id,
      project_id: 'default',
      vip: '10.0.0.100',
      algorithm: 'ROUND_ROBIN',
      protocol: 'TCP',
    });
    expect(lb).toMatchObject({
      name: 'web-lb',
      vip: '10.0.0.100',
      algorithm: 'ROUND_ROBIN',
      protocol: 'TCP',
      provider: 'nftables',
      provisioning_status: 'PENDING_CREATE',
      operating_status: 'NO_MONITOR',
      listeners: [],
      members: [],
      health_check: null,
    });
    expect(['lb-1', 'lb-2']).toContain(lb.host_id);
    const listener = await rpc<ListenerView>('AddListener', {
      load_balancer_id: lb.id,
      port: 80,
      protocol: 'TCP',
      name: 'http',
    });
    expect(listener).toMatchObject({ port: 80, protocol: 'TCP', name: 'http' });
    for (const address of ['10.0.1.10', '10.0.1.11'])
      expect(
        await rpc<MemberView>('AddMember', {
          load_balancer_id: lb.id,
          address,
          port: 80,
          weight: 1,
        }),
      ).toMatchObject({ address, port: 80, weight: 1, admin_state_up: true });
    const withCheck = await rpc<LoadBalancerView>('SetHealthCheck', {
      load_balancer_id: lb.id,
      health_check: {
        protocol: 'TCP',
        port: 80,
        interval_sec: 5,
        timeout_sec: 3,
        unhealthy_threshold: 3,
        healthy_threshold: 2,
      },
    });
    expect(withCheck.health_check).toEqual({
      protocol: 'TCP',
      port: 80,
      interval_sec: 5,
      timeout_sec: 3,
      unhealthy_threshold: 3,
      healthy_threshold: 2,
    });
    await untilActive(lb);
    const agentLog = await cluster.logs(`node-agent-${lb.host_id}`);
    expect(JSON.stringify(agentLog)).toContain('lb_nft generation');
  });

  it('refuses bad input with 400 naming the field, changing nothing', async () => {
    const lb = await newLb('bad-input');
    await rpc('SetHealthCheck', {
      load_balancer_id: lb.id,
      health_check: TCP_CHECK,
    });
    const before = await counts();
    const create = (over: object) =>
      call('CreateLoadBalancer', { name: 'x', network_id: net.id, vip: '10.0.0.7', ...over });
    expectError(await create({ network_id: 'net-123' }), 400, 'network_id');
    expectError(await create({ vip: '10.1.0.7' }), 400, 'vip');
    expectError(await create({ vip: '10.0.0.0' }), 400, 'vip');
    expectError(await create({ vip: 'not-an-ip' }), 400, 'vip');
    expectError(await create({ algorithm: 'RANDOM' }), 400, 'algorithm');
    expectError(await create({ protocol: 'SCTP' }), 400, 'protocol');
    expectError(await create({ name: 'web lb\n' }), 400, 'name');
    expectError(await create({ extra: 1 }), 400, 'extra');
    const listener = (over: object) =>
      call('AddListener', { load_balancer_id: lb.id, port: 81, ...over });
    expectError(await listener({ port: 0 }), 400, 'port');
    expectError(await listener({ port: 65536 }), 400, 'port');
    expectError(await listener({ protocol: 'HTTP' }), 400, 'protocol');
    const member = (over: object) =>
      call('AddMember', { load_balancer_id: lb.id, address: '10.0.1.12', port: 80, ...over });
    expectError(await member({ weight: 0 }), 400, 'weight');
    expectError(await member({ weight: 257 }), 400, 'weight');
    expectError(await member({ address: '10.0.1.256' }), 400, 'address');
    expectError(await member({ address: 'fd00::1' }), 400, 'address');
    expectError(await member({ port: 70000 }), 400, 'port');
    const check = (over: object) =>
      call('SetHealthCheck', {
        load_balancer_id: lb.id,
        health_check: { ...TCP_CHECK, ...over },
      });
    expectError(await check({ interval_sec: 0 }), 400, 'health_check.interval_sec');
    expectError(await check({ timeout_sec: 6 }), 400, 'health_check.timeout_sec');
    expectError(await check({ protocol: 'ICMP' }), 400, 'health_check.protocol');
    expect(await counts()).toEqual(before);
    expect(
      (await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id })).health_check,
    ).not.toBeNull();
    // A check without a port of its own reaches the agent as one (no null on the bus): its host
    // applies the state (a refused push left the host's every later state unapplied).
    await untilActive(lb, 'ACTIVE with a portless health check');
  });

  it('404 for what does not exist, naming the field', async () => {
    const lb = await newLb('not-found');
    const missing = '00000000-0000-4000-8000-000000000000';
    expectError(
      await call('CreateLoadBalancer', { name: 'x', network_id: missing }),
      404,
      'network_id',
    );
    expect((await call('GetLoadBalancer', { id: missing })).status).toBe(404);
    expect(
      (await call('RemoveMember', { load_balancer_id: lb.id, member_id: missing })).status,
    ).toBe(404);
    expect((await call('AddListener', { load_balancer_id: missing, port: 80 })).status).toBe(404);
  });

  it('409 for duplicates; ten concurrent identical requests give exactly one 200', async () => {
    const lb = await newLb('dup-lb', { vip: '10.0.0.150' });
    await rpc('AddListener', { load_balancer_id: lb.id, port: 80, protocol: 'TCP' });
    await rpc('AddMember', { load_balancer_id: lb.id, address: '10.0.1.10', port: 80 });
    expectError(
      await call('CreateLoadBalancer', {
        name: 'dup-lb',
        network_id: net.id,
        project_id: 'default',
      }),
      409,
      'name',
    );
    expectError(
      await call('CreateLoadBalancer', { name: 'other', network_id: net.id, vip: '10.0.0.150' }),
      409,
      'vip',
    );
    expectError(await call('AddListener', { load_balancer_id: lb.id, port: 80 }), 409, 'port');
    expectError(
      await call('AddMember', { load_balancer_id: lb.id, address: '10.0.1.10', port: 80 }),
      409,
      'address',
    );
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('AddListener', { load_balancer_id: lb.id, port: 443, protocol: 'TCP' }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
  });

  it('concurrent creations without a VIP get distinct addresses from IPAM', async () => {
    const made = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        rpc<LoadBalancerView>('CreateLoadBalancer', { name: `auto-${i}`, network_id: net.id }),
      ),
    );
    expect(new Set(made.map((m) => m.vip)).size).toBe(8);
    for (const m of made) await rpc('DeleteLoadBalancer', { id: m.id });
  });

  it('the VIP is held in the registry IPAM: no NIC gets it until the LB is deleted', async () => {
    const temp = await rpc<LoadBalancerView>('CreateLoadBalancer', {
      name: 'temp',
      network_id: net.id,
      vip: '10.0.0.200',
    });
    const nic = { network_id: net.id, host_id: 'lb-1', vm_id: 'vm-vip', ip_address: '10.0.0.200' };
    expectError(await cluster.http('POST', '/v1/nics', nic), 409, 'ip_address');
    const netDelete = await cluster.http<ErrorBody>('DELETE', `/v1/networks/${net.id}`);
    expect(netDelete.status).toBe(409);
    expect(netDelete.body.message).toContain('reserved address');
    await cluster.api('DELETE', `${REST}/${temp.id}`);
    const attached = await cluster.api<{ id: string; ip_address: string }>('POST', '/v1/nics', nic);
    expect(attached.ip_address).toBe('10.0.0.200');
    await cluster.api('DELETE', `/v1/nics/${attached.id}`);
  });

  it('placement: 412 for a host without the capability or an algorithm the provider cannot do', async () => {
    const res = await call('CreateLoadBalancer', {
      name: 'x',
      network_id: net.id,
      host_id: 'no-nft',
    });
    expectError(res, 412, 'host_id');
    expect(res.body.message).toContain('has no nftables');
    expectError(
      await call('CreateLoadBalancer', {
        name: 'x',
        network_id: net.id,
        provider: 'ovn',
        algorithm: 'SOURCE_IP',
      }),
      412,
      'host_id',
    );
    expectError(
      await call('CreateLoadBalancer', {
        name: 'x',
        network_id: net.id,
        provider: 'ovn',
        algorithm: 'WEIGHTED',
      }),
      412,
      'algorithm',
    );
    const lb = await newLb('to-update');
    const updated = await call<LoadBalancerView>('UpdateLoadBalancer', {
      id: lb.id,
      algorithm: 'LEAST_CONNECTIONS',
      description: 'web tier',
    });
    expect(updated.body).toMatchObject({ algorithm: 'LEAST_CONNECTIONS', description: 'web tier' });
  });

  it("a host-local network's load balancer goes on that network's host, and only there", async () => {
    const local = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'on-lb-2',
      bridge_name: 'qbrlb2',
      host_id: 'lb-2',
      cidr: '10.3.0.0/24',
    });
    const elsewhere = await call('CreateLoadBalancer', {
      name: 'x',
      network_id: local.id,
      host_id: 'lb-1',
    });
    expectError(elsewhere, 412, 'host_id');
    expect(elsewhere.body.message).toContain('lives on host lb-2');
    // Twice: least-loaded placement alone would put the second on the other host.
    const placed = [await newLb('local-1', { network_id: local.id })];
    placed.push(await newLb('local-2', { network_id: local.id }));
    expect(placed.map((b) => b.host_id)).toEqual(['lb-2', 'lb-2']);
    for (const b of placed) await cluster.api('DELETE', `${REST}/${b.id}`);
    await cluster.api('DELETE', `/v1/networks/${local.id}`);
  });

  it('lists page and filter', async () => {
    const extra = await newLb('api-lb', { host_id: 'lb-2', labels: { tier: 'api' } });
    const another = await newLb('list-lb');
    const first = await rpc<ListLoadBalancersResponse>('ListLoadBalancers', { page_size: 1 });
    expect(first.load_balancers).toHaveLength(1);
    expect(first.next_page_token).not.toBe('');
    const second = await rpc<ListLoadBalancersResponse>('ListLoadBalancers', {
      page_size: 1,
      page_token: first.next_page_token,
    });
    expect(second.load_balancers[0]!.id).not.toBe(first.load_balancers[0]!.id);
    const byName = await cluster.api<ListLoadBalancersResponse>('GET', `${REST}?name=api-lb`);
    expect(byName.load_balancers.map((b) => b.id)).toEqual([extra.id]);
    const byHost = await cluster.api<ListLoadBalancersResponse>(
      'GET',
      `${REST}?host_id=lb-2&network_id=${net.id}`,
    );
    expect(byHost.load_balancers.every((b) => b.host_id === 'lb-2')).toBe(true);
    expect(
      (await cluster.api<ListLoadBalancersResponse>('GET', `${REST}?provider=ovn`)).load_balancers,
    ).toEqual([]);
    await rpc('DeleteLoadBalancer', { id: extra.id });
    await rpc('DeleteLoadBalancer', { id: another.id });
  });

  it('REST routes mirror the RPCs, with the seed health check document', async () => {
    const made = await cluster.api<LoadBalancerView>('POST', REST, {
      name: 'rest-lb',
      network_id: net.id,
      algorithm: 'WEIGHTED',
      protocol: 'UDP',
    });
    const l = await cluster.api<ListenerView>('POST', `${REST}/${made.id}/listeners`, { port: 53 });
    expect(l).toMatchObject({ protocol: 'UDP', name: 'udp-53' });
    const m = await cluster.api<MemberView>('POST', `${REST}/${made.id}/members`, {
      address: '10.0.2.1',
      port: 5353,
      weight: 7,
    });
    const updated = await cluster.api<MemberView>('PATCH', `${REST}/${made.id}/members/${m.id}`, {
      admin_state_up: false,
    });
    expect(updated).toMatchObject({
      weight: 7,
      admin_state_up: false,
      operating_status: 'OFFLINE',
    });
    const hc = await cluster.api<LoadBalancerView>('PUT', `${REST}/${made.id}/health-check`, {
      load_balancer_id: made.id,
      health_check: {
        protocol: 'UDP',
        port: 5353,
        interval_sec: 5,
        timeout_sec: 3,
        unhealthy_threshold: 3,
        healthy_threshold: 2,
      },
    });
    expect(hc.health_check?.protocol).toBe('UDP');
    const stats = await cluster.api<LoadBalancerStatsView>('GET', `${REST}/${made.id}/stats`);
    expect(stats).toMatchObject({ load_balancer_id: made.id, members: [{ member_id: m.id }] });
    expect((await cluster.http('DELETE', `${REST}/${made.id}/health-check`)).status).toBe(204);
    expect((await cluster.http('DELETE', `${REST}/${made.id}/members/${m.id}`)).status).toBe(204);
    expect((await cluster.http('DELETE', `${REST}/${made.id}/listeners/${l.id}`)).status).toBe(204);
    expect((await cluster.http('DELETE', `${REST}/${made.id}`)).status).toBe(204);
    expect((await cluster.http('GET', `${REST}/${made.id}`)).status).toBe(404);
  });

  it('publishes qnet.evt.lb.* events', async () => {
    const lb = await newLb('events');
    await rpc('UpdateLoadBalancer', { id: lb.id, description: 'watched' });
    const l = await rpc<ListenerView>('AddListener', { load_balancer_id: lb.id, port: 80 });
    const m = await rpc<MemberView>('AddMember', {
      load_balancer_id: lb.id,
      address: '10.0.3.1',
      port: 80,
    });
    await rpc('UpdateMember', { load_balancer_id: lb.id, member_id: m.id, weight: 2 });
    await rpc('SetHealthCheck', {
      load_balancer_id: lb.id,
      health_check: TCP_CHECK,
    });
    await rpc('SetHealthCheck', { load_balancer_id: lb.id });
    await rpc('RemoveMember', { load_balancer_id: lb.id, member_id: m.id });
    await rpc('RemoveListener', { load_balancer_id: lb.id, listener_id: l.id });
    await rpc('DeleteLoadBalancer', { id: lb.id });
    const mine = () => events.filter((e) => JSON.stringify(e).includes(lb.id));
    await waitFor(
      async () => mine().some((e) => e.type === 'lb.load_balancer.deleted'),
      5_000,
      'events',
    );
    const types = new Set(mine().map((e) => e.type));
    for (const t of [
      'lb.load_balancer.created',
      'lb.load_balancer.updated',
      'lb.load_balancer.deleted',
      'lb.listener.added',
      'lb.listener.removed',
      'lb.member.added',
      'lb.member.updated',
      'lb.member.removed',
      'lb.health_check.set',
      'lb.health_check.removed',
    ])
      expect(types).toContain(t);
  });

  it('re-places a load balancer when its host stops being healthy, so the VIP follows', async () => {
    const lb = await newLb('failover');
    await untilActive(lb);
    const from = (await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id })).host_id;
    const to = from === 'lb-1' ? 'lb-2' : 'lb-1';
    await cluster.stop(`node-agent-${from}`);
    await waitFor(
      async () => (await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id })).host_id === to,
      15_000,
      `the LB moved to ${to}`,
    );
    await untilActive(lb, 'ACTIVE on the new host');
    expect(
      events.some(
        (e) =>
          e.type === 'lb.load_balancer.failed_over' &&
          e.data.from_host_id === from &&
          e.data.to_host_id === to,
      ),
    ).toBe(true);
  });
});
