import path from 'node:path';
import type { LoadBalancerView, MemberView, NetworkView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { Netns, OvnNorthbound, TestCluster } from '@qnet/testing';

const LB = '/limiquantix.network.v1.LoadBalancerService';

/**
 * Seed 000 §1.5: the lb_ovn driver writes OVN northbound rows into a real ovsdb-server running
 * the OVN NB schema; ovn-nbctl's own listings are what is checked.
 */
describe('L4 load balancing realized in the OVN northbound database', () => {
  let cluster: TestCluster;
  let nb: OvnNorthbound;
  let host: Netns;
  let lb: LoadBalancerView;
  let net: NetworkView;
  const rpc = <T>(method: string, body: object) => cluster.api<T>('POST', `${LB}/${method}`, body);
  const active = () =>
    waitFor(
      async () =>
        (await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id })).provisioning_status ===
        'ACTIVE',
      10_000,
      'the LB ACTIVE',
    );
  const lbList = async () =>
    (await nb.nbctl('lb-list'))
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).slice(-3).join(' '))
      .filter(Boolean);
  const rowUuid = async () =>
    nb.nbctl('--bare', '--columns=_uuid', 'find', 'Load_Balancer', `name=qnet-${lb.id}-tcp`);

  beforeAll(async () => {
    host = await Netns.create('qovn');
    cluster = await TestCluster.create({
      hostIds: ['ovn-host'],
      env: { HEARTBEAT_INTERVAL_MS: '500', RESYNC_INTERVAL_MS: '1000' },
    });
    nb = await OvnNorthbound.start(path.join(cluster.dir, 'ovn'));
    await cluster.startServices(['registry', 'lb']);
    await cluster.startGateway();
    cluster.start(
      'node-agent',
      { hostId: 'ovn-host', mode: 'netns', netns: host.name },
      { OVN_NB_DB: nb.db },
    );
    await cluster.waitForHosts(['ovn-host']);
    net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'production-switch',
      bridge_name: 'qbrprod',
      cidr: '10.0.0.0/16',
    });
  });

  afterAll(async () => {
    // Before the teardown, which removes the directory holding its control socket.
    await nb?.stop();
    await cluster?.teardown();
    await host?.delete();
  });

  it('refuses algorithms OVN cannot do, naming the provider and what it supports', async () => {
    const res = await cluster.http('POST', `${LB}/CreateLoadBalancer`, {
      name: 'web-lb',
      network_id: net.id,
      vip: '10.0.0.100',
      algorithm: 'ROUND_ROBIN',
      provider: 'ovn',
    });
    expect(res.status).toBe(412);
    expect(res.body).toMatchObject({
      code: 'failed_precondition',
      message: expect.stringContaining(
        'the ovn provider cannot do ROUND_ROBIN; it supports SOURCE_IP',
      ),
    });
  });

  it('after the API calls, lb-list shows exactly the VIPs and backends, attached to the switch', async () => {
    lb = await rpc<LoadBalancerView>('CreateLoadBalancer', {
      name: 'web-lb',
      network_id: net.id,
      project_id: 'default',
      vip: '10.0.0.100',
      algorithm: 'SOURCE_IP',
      protocol: 'TCP',
      provider: 'ovn',
    });
    expect(lb).toMatchObject({ host_id: 'ovn-host', provider: 'ovn' });
    await rpc('AddListener', { load_balancer_id: lb.id, port: 80, protocol: 'TCP', name: 'http' });
    await rpc('AddListener', { load_balancer_id: lb.id, port: 443, protocol: 'TCP' });
    for (const [address, port] of [
      ['10.0.1.10', 80],
      ['10.0.1.11', 80],
    ] as const)
      await rpc<MemberView>('AddMember', {
        load_balancer_id: lb.id,
        address,
        port,
        weight: 1,
        logical_port: `web-${address.split('.')[3]}`,
      });
    await active();
    expect((await lbList()).sort()).toEqual([
      'tcp 10.0.0.100:443 10.0.1.10:80,10.0.1.11:80',
      'tcp 10.0.0.100:80 10.0.1.10:80,10.0.1.11:80',
    ]);
    expect(
      await nb.nbctl(
        '--bare',
        '--columns=load_balancer',
        'find',
        'Logical_Switch',
        'name=production-switch',
      ),
    ).toBe(await rowUuid());
    expect(await nb.nbctl('--bare', '--columns=selection_fields', 'list', 'Load_Balancer')).toBe(
      'ip_src',
    );
  });

  it('writes health checks as Load_Balancer_Health_Check rows with ip_port_mappings', async () => {
    await rpc('SetHealthCheck', {
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
    await active();
    const checks = await nb.nbctl(
      '--bare',
      '--columns=vip,options',
      'list',
      'Load_Balancer_Health_Check',
    );
    expect(checks).toContain('10.0.0.100:80');
    expect(checks).toContain('10.0.0.100:443');
    expect(checks).toContain('failure_count=3 interval=5 success_count=2 timeout=3');
    expect(await nb.nbctl('--bare', '--columns=ip_port_mappings', 'list', 'Load_Balancer')).toBe(
      '10.0.1.10=web-10:10.0.0.100 10.0.1.11=web-11:10.0.0.100',
    );
  });

  it('resyncs write nothing: the row is not rewritten', async () => {
    const before = await rowUuid();
    await new Promise((r) => setTimeout(r, 2500));
    expect(await rowUuid()).toBe(before);
    const logs = await cluster.logs('node-agent-ovn-host');
    const applies = logs.filter((l) => String(l.msg).startsWith('lb_ovn generation'));
    // Every apply was one ovn-nbctl process: "1 change(s)".
    expect(applies.length).toBeGreaterThan(0);
    for (const l of applies) expect(String(l.msg)).toMatch(/: 1 change\(s\): ovn-nbctl --db=/);
  });

  it('a removed member leaves the VIPs; deleting the LB leaves nothing', async () => {
    const view = await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id });
    await rpc('RemoveMember', { load_balancer_id: lb.id, member_id: view.members[1]!.id });
    await active();
    expect((await lbList()).sort()).toEqual([
      'tcp 10.0.0.100:443 10.0.1.10:80',
      'tcp 10.0.0.100:80 10.0.1.10:80',
    ]);
    await rpc('DeleteLoadBalancer', { id: lb.id });
    await waitFor(async () => (await lbList()).length === 0, 5_000, 'lb-list empty');
    expect(await nb.nbctl('list', 'Load_Balancer_Health_Check')).toBe('');
    expect(await nb.nbctl('ls-lb-list', 'production-switch')).toBe('');
  });
});
