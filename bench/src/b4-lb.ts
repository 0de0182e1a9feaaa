import type { LoadBalancerView, NetworkView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { Netns, TestCluster } from '@qnet/testing';
import { applyTimer, latencySeries, quantile, round } from './measure.js';

const LB = '/limiquantix.network.v1.LoadBalancerService';

/**
 * B4: AddMember API call → the rule active on the LB host (the agent's `nft -f` returned and it
 * reported the apply), p50/p99, on an LB with a few members and with 1,000. Floor: what any
 * reconciling agent must run at least — `nft list table` then `nft -f` replacing the same table,
 * directly (ip netns exec). Target: p50 at 1,000 members within 2× the floor.
 */
export interface B4Result {
  samples: number;
  floor_nft_p50_ms: number;
  at_few: { p50_ms: number; p99_ms: number };
  at_1000: { p50_ms: number; p99_ms: number };
  meets_target: boolean;
  figures: Record<string, string | number>;
}

const SAMPLES = 30;
const memberAddress = (n: number) =>
  `10.${80 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;

export async function runB4(): Promise<B4Result> {
  const host = await Netns.create('qb4');
  const cluster = await TestCluster.create({ hostIds: ['b4-lb'], env: { LOG_LEVEL: 'warn' } });
  try {
    await cluster.startServices(['registry', 'lb']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: 'b4-lb', mode: 'netns', netns: host.name });
    await cluster.waitForHosts(['b4-lb']);
    const net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'b4',
      bridge_name: 'qbrb4',
      cidr: '10.77.0.0/24',
    });
    const lb = await cluster.api<LoadBalancerView>('POST', `${LB}/CreateLoadBalancer`, {
      name: 'b4',
      network_id: net.id,
      vip: '10.77.0.100',
    });
    await cluster.api('POST', `${LB}/AddListener`, { load_balancer_id: lb.id, port: 80 });

    const timed = await applyTimer(
      await cluster.connectAs('observer'),
      'qnet.agent.b4-lb.status.lb_nft',
    );
    let n = 1;
    const add = () =>
      cluster.api('POST', `${LB}/AddMember`, {
        load_balancer_id: lb.id,
        address: memberAddress(n++),
        port: 8080,
      });
    const series = () => latencySeries(SAMPLES, () => timed(add));
    const table = async () => (await host.exec(['nft', 'list', 'table', 'inet', 'qnet_lb'])).stdout;

    while (n <= 3) await timed(add);
    const atFew = await series();
    while (n <= 1_000) await Promise.all(Array.from({ length: 20 }, () => add()));
    const last = memberAddress(n - 1);
    await waitFor(async () => (await table()).includes(`${last} . 8080`), 30_000, 'all members');
    const at1000 = await series();
    await waitFor(
      async () => (await table()).includes(`${memberAddress(n - 1)} . 8080`),
      10_000,
      'the measured members in the table',
    );

    // Floor: read the table, then replace it whole with one of the same size, directly.
    const body = (await table()).replace(/^table inet qnet_lb \{/, '');
    const script = `table inet qnet_lb\ndelete table inet qnet_lb\ntable inet qnet_lb {${body}`;
    const floor: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      await table();
      await host.exec(['nft', '-f', '-'], { input: script });
      floor.push(performance.now() - t0);
    }
    const floorP50 = round(quantile(floor, 0.5));
    const ratio = round(at1000.p50_ms / floorP50, 2);
    const meets = ratio <= 2;
    return {
      samples: SAMPLES,
      floor_nft_p50_ms: floorP50,
      at_few: atFew,
      at_1000: at1000,
      meets_target: meets,
      figures: {
        'floor: direct `nft list table` + `nft -f` of the 1,000-member table, p50 ms': floorP50,
        'AddMember → rule active, a few members: p50 / p99 ms': `${atFew.p50_ms} / ${atFew.p99_ms}`,
        'AddMember → rule active, ~1,000 members: p50 / p99 ms': `${at1000.p50_ms} / ${at1000.p99_ms}`,
        '1,000 members vs floor (p50; target ≤ 2×)': `${ratio}× — ${meets ? 'meets' : 'MISSES'} target`,
      },
    };
  } finally {
    await cluster.teardown();
    await host.delete();
  }
}
