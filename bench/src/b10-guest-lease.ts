import type { NetworkView, NicView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { DhcpClient, Netns, TestCluster } from '@qnet/testing';
import { measure } from './b2-convergence.js';
import { quantile, round } from './measure.js';

/**
 * B10 (issue 18's B9): from the API call attaching a veth NIC to the moment busybox udhcpc in the
 * guest's namespace holds its lease, against the floor of the same client leasing from an
 * already-configured dnsmasq, in the same run. Target: p99 ≤ 2× floor + 100 ms.
 * B10b (issue 18's B9b): the cost of one more attach (hosts files, SIGHUP, port rules) on a host
 * network with 1,000 NICs against the same at 10 NICs. Target: ≤ 2×.
 */
export interface B10Result {
  attaches: number;
  lease_p50_ms: number;
  lease_p99_ms: number;
  floor_p50_ms: number;
  floor_p99_ms: number;
  target_p99_ms: number;
  meets_target: boolean;
  one_more_attach: { at_nics: number; p50_ms: number; p99_ms: number }[];
  one_more_ratio: number;
  one_more_meets_target: boolean;
}

const HOST = 'b10';
const RUN_DIR = `/run/qnet/${HOST}-bench`;

export async function runB10(attaches = 30): Promise<B10Result> {
  const host = await Netns.create('qb10');
  const dhcp = await DhcpClient.create();
  const guests: Netns[] = [];
  const cluster = await TestCluster.create({
    hostIds: [HOST],
    env: { LOG_LEVEL: 'warn', AGENT_RUN_DIR: RUN_DIR },
  });
  try {
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: HOST, mode: 'netns', netns: host.name });
    await cluster.waitForHosts([HOST]);
    const network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'b10',
      bridge_name: 'qbrb10',
      host_id: HOST,
      cidr: '10.140.0.0/20',
      gateway: '10.140.0.1',
      mode: 'nat',
    });
    const attach = async (i: number) => {
      const g = await Netns.create('qb10g');
      guests.push(g);
      const t0 = performance.now();
      const nic = await cluster.api<NicView>('POST', '/v1/nics', {
        network_id: network.id,
        host_id: HOST,
        vm_id: `b10-${i}`,
        kind: 'veth',
        netns: g.name,
      });
      // udhcpc starts once the API says the NIC is applied (a client started earlier would only
      // race the agent configuring the same interface).
      await waitFor(
        async () =>
          (await cluster.api<NicView>('GET', `/v1/nics/${nic.id}`)).provisioning_status ===
          'ACTIVE',
        10_000,
        'NIC applied',
        5,
      );
      const lease = await dhcp.lease(g);
      if (lease.ip !== nic.ip_address)
        throw new Error(`guest ${i} leased ${lease.ip}, not ${nic.ip_address}`);
      return { ms: performance.now() - t0, guest: g };
    };
    await attach(-1); // dnsmasq started
    const leases: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < attaches; i++) {
      const { ms, guest } = await attach(i);
      leases.push(ms);
      const t0 = performance.now();
      await dhcp.lease(guest);
      floors.push(performance.now() - t0);
    }
    const floorP99 = quantile(floors, 0.99);
    const leaseP99 = quantile(leases, 0.99);
    const target = 2 * floorP99 + 100;

    // One more attach at 10 and at 1,000 NICs on a second network of the host (TAPs: no namespace
    // each).
    const observer = await cluster.connectAs('network-registry');
    const crowded = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'b10b',
      bridge_name: 'qbrb10b',
      host_id: HOST,
      cidr: '10.141.0.0/20',
      gateway: '10.141.0.1',
      mode: 'nat',
    });
    const oneMore = [];
    let have = 0;
    for (const size of [10, 1_000]) {
      for (; have < size; have += Math.min(25, size - have)) {
        const from = have;
        await Promise.all(
          Array.from({ length: Math.min(25, size - from) }, (_, k) =>
            cluster.api('POST', '/v1/nics', {
              network_id: crowded.id,
              host_id: HOST,
              vm_id: `b10-fill-${from + k}`,
              kind: 'tap',
            }),
          ),
        );
      }
      // measure() starts once the fill is applied, so that no attach waits behind it.
      const r = await measure(cluster, observer, crowded, [HOST], 20, Infinity, `b10-at-${size}`);
      oneMore.push({ at_nics: have, p50_ms: r.p50_ms, p99_ms: r.p99_ms });
      have += 20;
    }
    const ratio = oneMore[1]!.p50_ms / oneMore[0]!.p50_ms;
    return {
      attaches,
      lease_p50_ms: round(quantile(leases, 0.5), 1),
      lease_p99_ms: round(leaseP99, 1),
      floor_p50_ms: round(quantile(floors, 0.5), 1),
      floor_p99_ms: round(floorP99, 1),
      target_p99_ms: round(target, 1),
      meets_target: leaseP99 <= target,
      one_more_attach: oneMore,
      one_more_ratio: round(ratio, 2),
      one_more_meets_target: ratio <= 2,
    };
  } finally {
    await cluster.teardown();
    await Promise.all([host, ...guests].map((n) => n.delete()));
    await dhcp.delete();
  }
}
