import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest } from '@qnet/bus';
import type { Capability, DesiredState, LinuxSpec, NetworkView, NicView } from '@qnet/contracts';
import { TestCluster } from '@qnet/testing';

const SEED_HOST = 'bbab8c75-f516-47ec-987a-828422b2ee5a';

/**
 * The registry's networks, NICs and IPAM through the gateway's REST API, against a real NATS and
 * PostgreSQL. Hosts register as their agents would, over their own NATS users.
 */
describe('network registry: networks, NICs, IPAM', () => {
  let cluster: TestCluster;
  let agentH1: NatsConnection;
  type ApiBody = Record<string, unknown> & {
    code?: string;
    message?: string;
    details?: { field: string; message: string }[];
  };
  const api = (method: string, path: string, body?: unknown) =>
    cluster.http<ApiBody>(method, path, body);
  const register = async (nc: NatsConnection, id: string, ip: string, caps: Capability[]) =>
    busRequest(nc, `qnet.agent.${id}.register`, {
      host_id: id,
      hostname: id,
      underlay_ip: ip,
      capabilities: caps,
      mode: 'dry-run',
      drivers: ['linux'],
      agent_version: 'test',
    });
  const count = async (sql: string, params: unknown[] = []) =>
    Number(
      (await cluster.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params))[0]!.n,
    );

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: ['h1', 'h2'] });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    agentH1 = await cluster.connectAs('agent-h1');
    await register(agentH1, 'h1', '192.0.2.1', ['bridge', 'vxlan', 'nft_bridge']);
    await register(await cluster.connectAs('agent-h2'), 'h2', '192.0.2.2', [
      'bridge',
      'vxlan',
      'nft_bridge',
    ]);
  });
  afterAll(() => cluster.teardown());

  it("runs seed 003's requests as written: create, list (array), get, patch, count, delete", async () => {
    const created = await api('POST', '/v1/networks', {
      name: 'Production Network',
      description: 'Production environment network',
      network_type: 'bridge',
      vlan_id: 100,
      bridge_name: 'fcbr0',
      host_id: SEED_HOST,
      cidr: '10.100.0.0/24',
      gateway: '10.100.0.1',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Production Network',
      type: 'bridge',
      vlan_id: 100,
      bridge_name: 'fcbr0',
      host_id: SEED_HOST,
      cidr: '10.100.0.0/24',
      gateway: '10.100.0.1',
      vni: null,
    });
    const id = created.body.id as string;
    const list = await api('GET', '/v1/networks?bridge_name=fcbr0');
    expect(Array.isArray(list.body)).toBe(true);
    expect((list.body as unknown as NetworkView[]).map((n) => n.id)).toEqual([id]);
    expect((await api('GET', `/v1/networks/${id}`)).body).toMatchObject({
      id,
      name: 'Production Network',
    });
    const patched = await api('PATCH', `/v1/networks/${id}`, {
      name: 'Production Network (Updated)',
      description: 'Updated description',
      cidr: '10.100.0.0/23',
      gateway: '10.100.0.1',
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Production Network (Updated)',
      cidr: '10.100.0.0/23',
    });
    expect((await api('GET', `/v1/networks/${id}/vms/count`)).body).toEqual({ count: 0 });
    expect((await api('DELETE', `/v1/networks/${id}`)).status).toBe(204);
    expect((await api('GET', `/v1/networks/${id}`)).status).toBe(404);
  });

  it('rejects bad input with 400 naming the field, and writes nothing', async () => {
    const before = await count('network_registry.networks');
    const cases: [object, string][] = [
      [{ name: 'x', bridge_name: 'br0; rm -rf /' }, 'bridge_name'],
      [{ name: 'x', bridge_name: 'a-name-longer-than-15' }, 'bridge_name'],
      [{ name: 'x', bridge_name: 'br0', cidr: '10.1.0.1/24' }, 'cidr'],
      [{ name: 'x', bridge_name: 'br0', cidr: '10.1.0.0/24', gateway: '10.2.0.1' }, 'gateway'],
      [{ name: 'x', bridge_name: 'br0', cidr: '10.1.0.0/24', gateway: '10.1.0.255' }, 'gateway'],
      [{ name: 'x', bridge_name: 'br0', vlan_id: 5000 }, 'vlan_id'],
      [{ name: 'x', network_type: 'vlan', bridge_name: 'br0' }, 'vlan_id'],
      [{ name: 'x', network_type: 'overlay', vni: 16777216 }, 'vni'],
      [{ name: 'evil\nname', bridge_name: 'br0' }, 'name'],
      [{ name: 'x', bridge_name: 'br0', reserved_ranges: ['10.9.0.1'] }, 'reserved_ranges'],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', '/v1/networks', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.details?.map((d) => d.field.replace(/\[\d+\]$/, ''))).toContain(field);
    }
    expect(await count('network_registry.networks')).toBe(before);
  });

  it('defaults to isolated, and refuses what a host cannot serve: nat without nftables, DHCP without dnsmasq (412 naming both)', async () => {
    const nat = { bridge_name: 'qbrnat', cidr: '10.64.0.0/24', gateway: '10.64.0.1' };
    const refused = await api('POST', '/v1/networks', {
      name: 'n',
      host_id: 'h2',
      mode: 'nat',
      ...nat,
    });
    expect(refused.status).toBe(412);
    expect(refused.body.message).toBe('host h2 lacks nftables');
    const isolated = await api('POST', '/v1/networks', { name: 'n', host_id: 'h2', ...nat });
    expect(isolated.status).toBe(201);
    expect(isolated.body.mode).toBe('isolated');
    const id = isolated.body.id as string;
    const update = await api('PATCH', `/v1/networks/${id}`, { mode: 'nat' });
    expect(update.status).toBe(412);
    const routed = await api('PATCH', `/v1/networks/${id}`, { mode: 'routed' });
    expect(routed).toMatchObject({ status: 412, body: { message: 'host h2 lacks dnsmasq' } });
    expect(
      (await api('PATCH', `/v1/networks/${id}`, { mode: 'routed', dhcp: false })).body.mode,
    ).toBe('routed');
    expect((await api('DELETE', `/v1/networks/${id}`)).status).toBe(204);
  });

  it('refuses a bridged uplink its host did not report (412), trusts a host that reports none', async () => {
    const heartbeat = (interfaces?: unknown) =>
      busRequest(agentH1, 'qnet.agent.h1.heartbeat', {
        host_id: 'h1',
        capabilities: ['bridge', 'vxlan', 'nft_bridge'],
        uptime_s: 1,
        ...(interfaces ? { interfaces } : {}),
      });
    const bridged = (uplink: string) =>
      api('POST', '/v1/networks', {
        name: 'lan',
        host_id: 'h1',
        bridge_name: 'qbrlan',
        mode: 'bridged',
        uplink_interface: uplink,
      });
    await heartbeat(['bond0', 'eth0']);
    expect((await api('GET', '/v1/hosts/h1')).body.interfaces).toEqual(['bond0', 'eth0']);
    const refused = await bridged('eth1');
    expect(refused).toMatchObject({
      status: 412,
      body: {
        message: 'host h1 lacks interface eth1',
        details: [{ field: 'uplink_interface' }],
      },
    });
    expect(await count('network_registry.networks WHERE name = $1', ['lan'])).toBe(0);
    // A name that is not an interface name never gets in, and the last report stands.
    await expect(heartbeat(['eth0\nbad'])).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await api('GET', '/v1/hosts/h1')).body.interfaces).toEqual(['bond0', 'eth0']);
    const lan = await bridged('bond0');
    expect(lan.status).toBe(201);
    expect((await api('DELETE', `/v1/networks/${lan.body.id as string}`)).status).toBe(204);
    // An agent that reports no interfaces (dry-run, or an older one): unknown, nothing refused.
    await heartbeat();
    expect((await api('GET', '/v1/hosts/h1')).body.interfaces).toBeNull();
    const unknown = await bridged('eth1');
    expect(unknown.status).toBe(201);
    expect((await api('DELETE', `/v1/networks/${unknown.body.id as string}`)).status).toBe(204);
  });

  it('refuses overlapping CIDRs in a project (409 naming the other network), allows them across projects', async () => {
    const a = await api('POST', '/v1/networks', {
      name: 'a',
      bridge_name: 'bra',
      cidr: '10.50.0.0/16',
    });
    expect(a.status).toBe(201);
    const b = await api('POST', '/v1/networks', {
      name: 'b',
      bridge_name: 'brb',
      cidr: '10.50.3.0/24',
    });
    expect(b.status).toBe(409);
    expect(b.body.message).toContain(a.body.id as string);
    expect(b.body.details?.[0]?.field).toBe('cidr');
    const other = await api('POST', '/v1/networks', {
      name: 'b',
      bridge_name: 'brb',
      cidr: '10.50.3.0/24',
      project_id: 'tenant-b',
    });
    expect(other.status).toBe(201);
  });

  it('lets exactly one of 20 concurrent creates of the same (host, bridge, vlan) succeed', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api('POST', '/v1/networks', {
          name: `race-${i}`,
          bridge_name: 'brrace',
          host_id: 'h1',
          vlan_id: 7,
          network_type: 'bridge',
        }),
      ),
    );
    // h1 has no vlan_filtering: every attempt is refused before any insert.
    expect(
      results.every((r) => r.status === 412 && r.body.message === 'host h1 lacks vlan_filtering'),
    ).toBe(true);
    const untagged = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api('POST', '/v1/networks', { name: `race-${i}`, bridge_name: 'brrace', host_id: 'h1' }),
      ),
    );
    expect(untagged.map((r) => r.status).sort()).toEqual([201, ...Array(19).fill(409)]);
    expect(untagged.find((r) => r.status === 409)!.body.details?.[0]?.field).toBe('bridge_name');
  });

  it('gives 200 concurrent NIC attaches on one /24 200 distinct addresses and MACs', async () => {
    const net = await api('POST', '/v1/networks', {
      name: 'ipam',
      network_type: 'overlay',
      host_ids: ['h1', 'h2'],
      cidr: '10.60.0.0/24',
      gateway: '10.60.0.1',
      reserved_ranges: ['10.60.0.2-10.60.0.9'],
    });
    expect(net.status).toBe(201);
    expect(net.body).toMatchObject({
      vni: 1,
      bridge_name: 'qbr1',
      mtu: 1450,
      host_ids: ['h1', 'h2'],
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        api('POST', '/v1/nics', {
          network_id: net.body.id,
          host_id: i % 2 ? 'h1' : 'h2',
          vm_id: `vm-${i}`,
        }),
      ),
    );
    expect(results.filter((r) => r.status !== 201).map((r) => r.body)).toEqual([]);
    const nics = results.map((r) => r.body as unknown as NicView);
    expect(new Set(nics.map((n) => n.ip_address)).size).toBe(200);
    expect(new Set(nics.map((n) => n.guest_mac)).size).toBe(200);
    const octets = nics.map((n) => Number(n.ip_address!.split('.')[3])).sort((x, y) => x - y);
    expect(octets[0]).toBe(10); // .1 gateway, .2-.9 reserved
    expect(octets[199]).toBe(209);
    // 45 left (.210-.254): the 46th is a clear pool-exhausted error.
    const more = await Promise.all(
      Array.from({ length: 46 }, (_, i) =>
        api('POST', '/v1/nics', { network_id: net.body.id, host_id: 'h1', vm_id: `more-${i}` }),
      ),
    );
    expect(more.filter((r) => r.status === 201)).toHaveLength(45);
    const refused = more.find((r) => r.status !== 201)!;
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('pool exhausted');
    // Its VM count counts VMs, not NICs: one VM leaves, another gets a second NIC.
    const vms = async () =>
      ((await api('GET', `/v1/networks/${net.body.id}`)).body as unknown as NetworkView).vm_count;
    expect(await vms()).toBe(245);
    const leaving = more.find((r) => r.status === 201)!.body as unknown as NicView;
    expect((await api('DELETE', `/v1/nics/${leaving.id}`)).status).toBe(204);
    const second = { network_id: net.body.id, host_id: 'h2', vm_id: 'vm-0', iface_id: 'eth1' };
    expect((await api('POST', '/v1/nics', second)).status).toBe(201);
    expect(await vms()).toBe(244);
  });

  it('allocates a requested free address, refuses a taken one, and frees it on detach', async () => {
    const net = await api('POST', '/v1/networks', {
      name: 'small',
      bridge_name: 'brsmall',
      host_id: 'h1',
      cidr: '10.70.0.0/29',
    });
    const nic = await api('POST', '/v1/nics', {
      network_id: net.body.id,
      host_id: 'h1',
      vm_id: 'vm-a',
      ip_address: '10.70.0.5',
      guest_mac: 'AA:FC:00:00:00:01',
      host_dev_name: 'tap-vm-a',
    });
    expect(nic.status).toBe(201);
    expect(nic.body).toMatchObject({
      ip_address: '10.70.0.5',
      guest_mac: 'aa:fc:00:00:00:01',
      kind: 'tap',
      host_dev_name: 'tap-vm-a',
    });
    const taken = await api('POST', '/v1/nics', {
      network_id: net.body.id,
      host_id: 'h1',
      vm_id: 'vm-b',
      ip_address: '10.70.0.5',
    });
    expect(taken.status).toBe(409);
    expect(taken.body.details?.[0]?.field).toBe('ip_address');
    const dupDev = await api('POST', '/v1/nics', {
      network_id: net.body.id,
      host_id: 'h1',
      vm_id: 'vm-c',
      host_dev_name: 'tap-vm-a',
    });
    expect(dupDev.status).toBe(409);
    expect(dupDev.body.details?.[0]?.field).toBe('host_dev_name');
    expect(
      (await api('POST', '/v1/nics', { network_id: net.body.id, host_id: 'h2', vm_id: 'vm-d' }))
        .status,
    ).toBe(412);
    expect((await api('DELETE', `/v1/networks/${net.body.id}`)).status).toBe(409);
    expect((await api('GET', `/v1/networks/${net.body.id}/vms/count`)).body).toEqual({ count: 1 });
    expect((await api('DELETE', `/v1/nics/${nic.body.id}`)).status).toBe(204);
    expect(
      await count(`network_registry.ip_allocations WHERE network_id = $1`, [net.body.id]),
    ).toBe(0);
    const again = await api('POST', '/v1/nics', {
      network_id: net.body.id,
      host_id: 'h1',
      vm_id: 'vm-e',
      ip_address: '10.70.0.5',
    });
    expect(again.status).toBe(201);
  });

  it('hands out the lowest never-used address around reserved ranges and requested ones', async () => {
    // 10.72.0.0/27: .1 the gateway, .5-.8 and .20-.23 reserved, .2 and .10 requested.
    const net = await api('POST', '/v1/networks', {
      name: 'gaps',
      bridge_name: 'brgaps',
      host_id: 'h1',
      cidr: '10.72.0.0/27',
      gateway: '10.72.0.1',
      reserved_ranges: ['10.72.0.5-10.72.0.8', '10.72.0.20/30'],
    });
    const attach = (vm: string, ip_address?: string) =>
      api('POST', '/v1/nics', { network_id: net.body.id, host_id: 'h1', vm_id: vm, ip_address });
    for (const ip of ['10.72.0.10', '10.72.0.2'])
      expect((await attach(`gaps-${ip.split('.')[3]!}-asked`, ip)).status).toBe(201);
    const handed: string[] = [];
    for (let i = 0; ; i++) {
      const res = await attach(`gaps-${i}`);
      if (res.status !== 201) {
        expect(res.status).toBe(409);
        break;
      }
      handed.push(res.body.ip_address as string);
    }
    const offsets = [
      3,
      4,
      9,
      ...Array.from({ length: 9 }, (_, k) => 11 + k),
      24,
      25,
      26,
      27,
      28,
      29,
      30,
    ];
    expect(handed).toEqual(offsets.map((o) => `10.72.0.${o}`));
  });

  it('hands out never-used addresses first, then the one freed longest ago', async () => {
    // 10.71.0.0/29: .1 is the gateway, .2-.6 are for NICs.
    const net = await api('POST', '/v1/networks', {
      name: 'reuse',
      bridge_name: 'brreuse',
      host_id: 'h1',
      cidr: '10.71.0.0/29',
      gateway: '10.71.0.1',
    });
    const attach = async (vm: string) => {
      const res = await api('POST', '/v1/nics', {
        network_id: net.body.id,
        host_id: 'h1',
        vm_id: vm,
      });
      expect(res.status).toBe(201);
      return res.body as unknown as NicView;
    };
    const detach = async (nic: NicView) =>
      expect((await api('DELETE', `/v1/nics/${nic.id}`)).status).toBe(204);
    const a = await attach('reuse-1');
    const b = await attach('reuse-2');
    expect([a.ip_address, b.ip_address]).toEqual(['10.71.0.2', '10.71.0.3']);
    await detach(a);
    // .2 was just freed: a peer may still cache its old MAC, so it is not handed straight back.
    const c = await attach('reuse-3');
    expect(c.ip_address).toBe('10.71.0.4');
    const rest = [await attach('reuse-4'), await attach('reuse-5')];
    expect(rest.map((n) => n.ip_address)).toEqual(['10.71.0.5', '10.71.0.6']);
    await detach(rest[1]!);
    await detach(b);
    // Only freed addresses are left: .2 (freed first), then .6, then .3.
    expect((await attach('reuse-6')).ip_address).toBe('10.71.0.2');
    expect((await attach('reuse-7')).ip_address).toBe('10.71.0.6');
    expect((await attach('reuse-8')).ip_address).toBe('10.71.0.3');
    const full = await api('POST', '/v1/nics', {
      network_id: net.body.id,
      host_id: 'h1',
      vm_id: 'x',
    });
    expect(full.status).toBe(409);
  });

  it('auto-registers one network for 20 concurrent attaches by bridge name', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api('POST', '/v1/nics', { bridge_name: 'fcbr9', host_id: 'h2', vm_id: `auto-${i}` }),
      ),
    );
    expect(results.filter((r) => r.status !== 201).map((r) => r.body)).toEqual([]);
    const networks = (await api('GET', '/v1/networks?bridge_name=fcbr9'))
      .body as unknown as NetworkView[];
    expect(networks).toHaveLength(1);
    expect(networks[0]).toMatchObject({
      name: 'fcbr9 Network',
      description: 'Auto-registered from VM creation',
      type: 'bridge',
      host_id: 'h2',
    });
    expect(new Set(results.map((r) => r.body.network_id))).toEqual(new Set([networks[0]!.id]));
  });

  it('pushes each affected host its full desired state, and answers its pulls', async () => {
    const pushed: DesiredState<LinuxSpec>[] = [];
    agentH1.subscribe('qnet.agent.h1.cmd.linux', {
      callback: (_e, m) => {
        pushed.push(m.json());
      },
    });
    await agentH1.flush();
    const net = await api('POST', '/v1/networks', {
      name: 'ov',
      network_type: 'overlay',
      host_ids: ['h1', 'h2'],
      cidr: '10.80.0.0/24',
    });
    const nic = await api('POST', '/v1/nics', {
      network_id: net.body.id,
      host_id: 'h2',
      vm_id: 'c1',
      netns: 'ctr1',
      kind: 'veth',
    });
    expect(nic.status).toBe(201);
    const pulled = await busRequest<DesiredState<LinuxSpec>>(
      agentH1,
      'qnet.agent.h1.desired.linux',
      { host_id: 'h1' },
    );
    const vx = pulled.spec.vxlans.find((x) => x.vni === net.body.vni)!;
    expect(vx).toMatchObject({
      name: `vx${net.body.vni}`,
      local: '192.0.2.1',
      flood: ['192.0.2.2'],
      fdb: [{ mac: nic.body.guest_mac, dst: '192.0.2.2' }],
      neigh: [{ ip: nic.body.ip_address, mac: nic.body.guest_mac }],
    });
    expect(pushed.at(-1)).toEqual(pulled);
    expect(pulled.generation).toBeGreaterThan(0);
  });

  it('serves the same operations as Connect RPCs, with filters, pagination, events and membership changes', async () => {
    const events: string[] = [];
    const observer = await cluster.connectAs('observer');
    observer.subscribe('qnet.evt.registry.>', {
      callback: (_e, m) => {
        events.push(m.subject);
      },
    });
    await observer.flush();
    const rpc = (method: string, body: unknown) =>
      api('POST', `/limiquantix.network.v1.NetworkRegistryService/${method}`, body);

    const net = await rpc('CreateNetwork', {
      name: 'members',
      network_type: 'overlay',
      vni: 777,
      host_ids: ['h1', 'h2'],
      cidr: '10.81.0.0/24',
    });
    expect(net.status).toBe(200);
    const dupVni = await rpc('CreateNetwork', { name: 'dup', network_type: 'overlay', vni: 777 });
    expect(dupVni.status).toBe(409);
    expect(dupVni.body.details?.[0]?.field).toBe('vni');

    const page1 = await rpc('ListNetworks', { type: 'overlay', page_size: 1 });
    const body1 = page1.body as unknown as { networks: NetworkView[]; next_page_token: string };
    expect(body1.networks).toHaveLength(1);
    const page2 = await rpc('ListNetworks', {
      type: 'overlay',
      page_size: 500,
      page_token: body1.next_page_token,
    });
    const rest = (page2.body as unknown as { networks: NetworkView[] }).networks;
    expect(rest.every((n) => n.type === 'overlay' && n.id > body1.networks[0]!.id)).toBe(true);
    expect([...body1.networks, ...rest].map((n) => n.id)).toContain(net.body.id);

    const nic = await rpc('AttachNic', { network_id: net.body.id, host_id: 'h1', vm_id: 'm1' });
    expect(nic.status).toBe(200);
    // h2 still has no NIC: it may leave; then h1 floods to nobody. h1 has a NIC: it may not leave.
    expect((await rpc('UpdateNetwork', { id: net.body.id, host_ids: ['h2'] })).status).toBe(409);
    const updated = await rpc('UpdateNetwork', { id: net.body.id, host_ids: ['h1'] });
    expect(updated.body).toMatchObject({ host_ids: ['h1'] });
    const pulled = await busRequest<DesiredState<LinuxSpec>>(
      agentH1,
      'qnet.agent.h1.desired.linux',
      { host_id: 'h1' },
    );
    expect(pulled.spec.vxlans.find((x) => x.vni === 777)).toMatchObject({ flood: [], fdb: [] });
    expect(pulled.spec.taps.map((t) => t.name)).toContain(nic.body.host_dev_name);

    expect((await rpc('DetachNic', { id: nic.body.id })).status).toBe(200);
    expect((await rpc('DeleteNetwork', { id: net.body.id })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual(
      expect.arrayContaining([
        'qnet.evt.registry.network.created',
        'qnet.evt.registry.nic.created',
        'qnet.evt.registry.network.updated',
        'qnet.evt.registry.nic.deleted',
        'qnet.evt.registry.network.deleted',
      ]),
    );
  });
});
