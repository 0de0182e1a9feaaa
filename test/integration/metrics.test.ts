import { busRequest } from '@qnet/bus';
import type { NetworkView } from '@qnet/contracts';
import { freePort, waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

/** Every service and agent serves Prometheus metrics of its own on its own port. */
describe('Prometheus metrics of services and agents', () => {
  let cluster: TestCluster;
  let registryUrl: string;
  let agentUrl: string;
  const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
  /** The value of one series, e.g. value(text, 'qnet_rpc_requests_total', {method: 'AttachNic'}). */
  const value = (text: string, name: string, labels: Record<string, string>) => {
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith(`${name}{`) &&
          Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
      );
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: ['m1'] });
    const registryPort = await freePort();
    const agentPort = await freePort();
    registryUrl = `http://127.0.0.1:${registryPort}`;
    agentUrl = `http://127.0.0.1:${agentPort}`;
    cluster.start('network-registry', undefined, { METRICS_PORT: String(registryPort) });
    await cluster.waitForService('registry');
    await cluster.startGateway();
    cluster.start(
      'node-agent',
      { hostId: 'm1', mode: 'dry-run' },
      { METRICS_PORT: String(agentPort) },
    );
    await cluster.waitForHosts(['m1']);
  });
  afterAll(() => cluster.teardown());

  it('a service counts and times each RPC by its answer code, and shows agents lagging behind', async () => {
    const net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'm',
      network_type: 'overlay',
      host_ids: ['m1'],
      cidr: '10.70.0.0/24',
    });
    await cluster.api('POST', '/v1/nics', { network_id: net.id, host_id: 'm1', vm_id: 'vm-m' });
    expect((await cluster.http('POST', '/v1/nics', { network_id: net.id })).status).toBe(400);
    const text = await scrape(registryUrl);
    expect(value(text, 'qnet_rpc_requests_total', { method: 'AttachNic', code: 'ok' })).toBe(1);
    expect(
      value(text, 'qnet_rpc_requests_total', { method: 'AttachNic', code: 'invalid_argument' }),
    ).toBe(1);
    expect(value(text, 'qnet_rpc_duration_seconds_count', { method: 'AttachNic' })).toBe(2);
    // Agent calls are labelled without their host id (bounded cardinality).
    expect(text).toMatch(/qnet_rpc_requests_total\{[^}]*method="agent\.\*\.register"/);
    expect(text).toContain('service="registry"');
    await waitFor(
      async () =>
        value(await scrape(registryUrl), 'qnet_agent_driver_generation_lag', {
          host: 'm1',
          driver: 'linux',
        }) === 0,
      10_000,
      'the agent to catch up',
    );
  });

  it('an agent times its applies and resyncs per driver, and counts refused commands', async () => {
    await waitFor(
      async () =>
        (value(await scrape(agentUrl), 'qnet_agent_apply_duration_seconds_count', {
          driver: 'linux',
          outcome: 'ok',
        }) ?? 0) > 0,
      10_000,
      'a linux apply',
    );
    const registry = await cluster.connectAs('network-registry');
    await expect(
      busRequest(registry, 'qnet.agent.m1.cmd.linux', { driver: 'linux', generation: 'x' }),
    ).rejects.toThrow(/generation/);
    const text = await scrape(agentUrl);
    expect(value(text, 'qnet_agent_command_failures_total', { driver: 'linux' })).toBe(1);
    expect(value(text, 'qnet_agent_applied_generation', { driver: 'linux' })).toBeGreaterThan(0);
    expect(text).toContain('host="m1"');
    expect(text).toContain('qnet_process_cpu_seconds_total');
    expect((await fetch(`${agentUrl}/other`)).status).toBe(404);
  });
});
