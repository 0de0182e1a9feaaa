import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest, encodeJson } from '@qnet/bus';
import type { DriverStatus, NetworkView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

/**
 * Agents' reports are recorded in batches (the reports of one turn in one statement): a burst
 * must land as if each were recorded alone, in order — two of the same host included.
 */
describe("agents' status reports", () => {
  const ids = ['rep-1', 'rep-2'];
  let cluster: TestCluster;
  const agents = new Map<string, NatsConnection>();

  const row = async (hostId: string) =>
    (
      await cluster.db.query<{ generation: string; applied: string; error: string | null }>(
        `SELECT generation, applied, error FROM network_registry.agent_drivers
         WHERE host_id = $1 AND driver = 'linux'`,
        [hostId],
      )
    )[0]!;
  const report = (hostId: string, generation: number, error?: string) => {
    const status: DriverStatus = {
      driver: 'linux',
      generation,
      ok: error === undefined,
      changes: [],
      host_id: hostId,
      observed_at: new Date().toISOString(),
      ...(error === undefined ? {} : { error }),
    };
    agents.get(hostId)!.publish(`qnet.agent.${hostId}.status.linux`, encodeJson(status));
  };

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: ids });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    for (const [i, id] of ids.entries()) {
      const nc = await cluster.connectAs(`agent-${id}`);
      agents.set(id, nc);
      await busRequest(nc, `qnet.agent.${id}.register`, {
        host_id: id,
        hostname: id,
        underlay_ip: `10.254.9.${i + 1}`,
        capabilities: ['bridge', 'vxlan', 'nft_bridge'],
        mode: 'dry-run',
        drivers: ['linux'],
        agent_version: 'test',
      });
    }
    const network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'reports',
      network_type: 'overlay',
      host_ids: ids,
      cidr: '10.131.0.0/24',
    });
    for (const vm of ['a', 'b'])
      await cluster.api('POST', '/v1/nics', {
        network_id: network.id,
        host_id: 'rep-1',
        vm_id: `reports-${vm}`,
        kind: 'tap',
      });
  }, 60_000);

  afterAll(() => cluster?.teardown(), 60_000);

  it('records a burst of reports as each alone would, two of one host in order', async () => {
    expect(await row('rep-1')).toMatchObject({ generation: '3', applied: '-1', error: null });
    const rep2 = Number((await row('rep-2')).generation);
    report('rep-1', 2);
    report('rep-2', rep2);
    report('rep-1', 3, 'RTNETLINK answers: File exists');
    await Promise.all([...agents.values()].map((nc) => nc.flush()));
    await waitFor(async () => (await row('rep-1')).error !== null, 5_000, 'the error recorded');
    expect(await row('rep-1')).toMatchObject({
      applied: '2',
      error: 'RTNETLINK answers: File exists',
    });
    await waitFor(async () => (await row('rep-2')).applied === String(rep2), 5_000, 'rep-2');

    // An older generation's success does not clear a newer one's error; the newer's does.
    report('rep-1', 1);
    report('rep-1', 3);
    await waitFor(async () => (await row('rep-1')).error === null, 5_000, 'the error cleared');
    expect(await row('rep-1')).toMatchObject({ applied: '3', error: null });
  });
});
