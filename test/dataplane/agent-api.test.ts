import type { HostView, NetworkView, NicView } from '@qnet/contracts';
import { freePort, waitFor } from '@qnet/stack';
import { Netns, TestCluster } from '@qnet/testing';

const HOST = 'aa-1';

/**
 * Seed 003's agent API, its two requests as the seed writes them, against a real agent in a host
 * namespace: the TAP is recorded through the registry (the seed's bridge auto-registered as a
 * network) and built and removed by the agent's normal desired-state path.
 */
describe("seed 003's agent API: POST /agent/v1/net/create and /agent/v1/net/delete", () => {
  let cluster: TestCluster;
  let host: Netns;
  let agentUrl: string;

  const post = async (path: string, body: string, type = 'application/json') => {
    const res = await fetch(`${agentUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const link = async (dev: string) =>
    (await host.exec(['ip', '-j', '-d', 'link', 'show', 'dev', dev], { reject: false })).stdout;
  const networksOn = (bridge: string) =>
    cluster.api<NetworkView[]>('GET', `/v1/networks?bridge_name=${bridge}&host_id=${HOST}`);

  beforeAll(async () => {
    host = await Netns.create('qaah');
    const port = await freePort();
    agentUrl = `http://127.0.0.1:${port}`;
    cluster = await TestCluster.create({
      hostIds: [HOST],
      env: { HEARTBEAT_INTERVAL_MS: '500', RESYNC_INTERVAL_MS: '2000' },
    });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    cluster.start(
      'node-agent',
      { hostId: HOST, mode: 'netns', netns: host.name },
      { AGENT_HTTP_LISTEN: String(port) },
    );
    await cluster.waitForHosts([HOST]);
    await waitFor(
      () =>
        fetch(`${agentUrl}/agent/v1/net/create`).then(
          () => true,
          () => false,
        ),
      10_000,
      'the agent API listening',
    );
  });

  afterAll(async () => {
    await cluster?.teardown();
    await host?.delete();
  });

  it('creates a TAP with VLAN 10 on fcbr0 verbatim where the host can tag; a 412 naming what it lacks where not', async () => {
    const verbatim = `{
    "bridge": "fcbr0",
    "tap": "tap-vm-1",
    "vlan_id": 10
  }`;
    const caps = (await cluster.api<HostView>('GET', `/v1/hosts/${HOST}`)).capabilities;
    const res = await post('/agent/v1/net/create', verbatim);
    if (caps.includes('vlan_filtering')) {
      expect(res.status).toBe(201);
      expect(await link('tap-vm-1')).toContain('"master":"fcbr0"');
    } else {
      // This kernel has no bridge VLAN filtering: nothing is written, the network included.
      expect(res).toMatchObject({
        status: 412,
        body: { message: `host ${HOST} lacks vlan_filtering` },
      });
      expect(await networksOn('fcbr0')).toEqual([]);
      expect(await link('tap-vm-1')).toBe('');
    }
  });

  it('creates an untagged TAP on fcbr0: the bridge is auto-registered and the TAP is real when it answers', async () => {
    const res = await post(
      '/agent/v1/net/create',
      JSON.stringify({ bridge: 'fcbr0', tap: 'tap-vm-12345' }),
    );
    expect(res).toMatchObject({
      status: 201,
      body: { host_dev_name: 'tap-vm-12345', kind: 'tap', host_id: HOST },
    });
    expect(await link('tap-vm-12345')).toContain('"master":"fcbr0"');
    const [network] = await networksOn('fcbr0');
    expect(network).toMatchObject({ bridge_name: 'fcbr0', host_id: HOST });
    const nics = await cluster.api<NicView[]>('GET', `/v1/nics?network_id=${network!.id}`);
    expect(nics.map((n) => n.host_dev_name)).toEqual(['tap-vm-12345']);
    // The same TAP again is a conflict naming the seed's field.
    const again = await post(
      '/agent/v1/net/create',
      JSON.stringify({ bridge: 'fcbr0', tap: 'tap-vm-12345' }),
    );
    expect(again).toMatchObject({ status: 409, body: { details: [{ field: 'tap' }] } });
  });

  it('refuses bad input with the field named, and writes nothing', async () => {
    const bad = async (body: string, status: number, field: string, type?: string) => {
      const res = await post('/agent/v1/net/create', body, type);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(JSON.stringify(res.body)).toContain(field);
    };
    await bad(JSON.stringify({ bridge: 'fcbr0;reboot', tap: 'tap-x' }), 400, 'bridge');
    await bad(JSON.stringify({ bridge: 'fcbr0', tap: 'tap\nx' }), 400, 'tap');
    await bad(JSON.stringify({ bridge: 'fcbr0', tap: 'tap-x', vlan_id: 4095 }), 400, 'vlan_id');
    await bad(JSON.stringify({ bridge: 'fcbr0', tap: 'tap-x', extra: 1 }), 400, 'extra');
    await bad('{"bridge": ', 400, 'body');
    await bad('bridge=fcbr0', 415, 'content-type', 'application/x-www-form-urlencoded');
    expect((await fetch(`${agentUrl}/agent/v1/net/create`)).status).toBe(405);
    expect((await fetch(`${agentUrl}/agent/v1/other`, { method: 'POST' })).status).toBe(404);
    expect(await link('tap-x')).toBe('');
  });

  it('deletes the TAP verbatim: gone from the kernel and the registry; a second delete is a 404', async () => {
    const res = await post(
      '/agent/v1/net/delete',
      `{
    "tap": "tap-vm-12345"
  }`,
    );
    expect(res.status).toBe(200);
    expect(await link('tap-vm-12345')).toBe('');
    const nics = await cluster.api<NicView[]>('GET', `/v1/nics?host_id=${HOST}`);
    expect(nics.filter((n) => n.host_dev_name === 'tap-vm-12345')).toEqual([]);
    expect(
      await post('/agent/v1/net/delete', JSON.stringify({ tap: 'tap-vm-12345' })),
    ).toMatchObject({ status: 404, body: { details: [{ field: 'tap' }] } });
  });
});
