import { execa } from 'execa';
import type { NetworkView, VpnServiceView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { Netns, TestCluster } from '@qnet/testing';
import { applyTimer, latencySeries, quantile, round } from './measure.js';

const VPN = '/limiquantix.network.v1.VpnService';

/**
 * B6: AddConnection API call → the agent reports the peer applied on a real wireguard-go gateway
 * (checked in `wg show` afterwards), p50/p99, with 10 and with 1,000 peers on the gateway. Floor:
 * one direct `wg set … peer` on the same interface — the least any control plane can do. Target:
 * the change costs about the same at 1,000 peers as at 10 (p50 within 2×).
 */
export interface B6Result {
  samples: number;
  floor_wg_set_p50_ms: number;
  at_10: { p50_ms: number; p99_ms: number };
  at_1000: { p50_ms: number; p99_ms: number };
  ratio_1000_to_10: number;
  meets_target: boolean;
  figures: Record<string, string | number>;
}

const SAMPLES = 30;

async function pubkey(): Promise<string> {
  const priv = (await execa('wg', ['genkey'])).stdout.trim();
  return (await execa('wg', ['pubkey'], { input: priv })).stdout.trim();
}

export async function runB6(): Promise<B6Result> {
  const gw = await Netns.create('qb6');
  const cluster = await TestCluster.create({ hostIds: ['b6-gw'], env: { LOG_LEVEL: 'warn' } });
  let service: VpnServiceView | undefined;
  try {
    await cluster.startServices(['registry', 'vpn']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: 'b6-gw', mode: 'netns', netns: gw.name });
    await cluster.waitForHosts(['b6-gw']);
    const net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'b6',
      bridge_name: 'qbrb6',
      cidr: '10.0.1.0/24',
    });
    service = await cluster.api<VpnServiceView>('POST', `${VPN}/CreateVpnService`, {
      name: 'b6',
      network_id: net.id,
      external_ip: '192.0.2.1',
      local_subnets: ['10.0.1.0/24'],
      client_pool: '10.100.0.0/20',
    });
    const iface = service.interface_name;
    const peers = async () =>
      (await gw.exec(['wg', 'show', iface, 'peers'])).stdout.split('\n').filter(Boolean).length;

    // Every applied change the agent reports, timestamped on arrival.
    const timed = await applyTimer(
      await cluster.connectAs('observer'),
      'qnet.agent.b6-gw.status.wireguard',
    );
    const keys = await Promise.all(Array.from({ length: 1_000 + 2 * SAMPLES }, pubkey));
    let n = 0;
    const add = (body: object = {}) =>
      cluster.api('POST', `${VPN}/AddConnection`, {
        vpn_service_id: service!.id,
        name: `c${n}`,
        peer_public_key: keys[n++],
        ...body,
      });
    const series = () => latencySeries(SAMPLES, () => timed(add));

    while (n < 10) await timed(add);
    const at10 = await series();
    while (n < 1_000) await Promise.all(Array.from({ length: 10 }, () => add()));
    await waitFor(async () => (await peers()) === n, 30_000, 'every peer on the gateway');
    const at1000 = await series();
    await waitFor(async () => (await peers()) === n, 10_000, 'the measured peers on the gateway');

    const floor: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      await gw.exec([
        'wg',
        'set',
        iface,
        'peer',
        await pubkey(),
        'allowed-ips',
        `10.100.15.${i + 1}/32`,
      ]);
      floor.push(performance.now() - t0);
    }
    const floorP50 = round(quantile(floor, 0.5));
    const ratio = round(at1000.p50_ms / at10.p50_ms, 2);
    return {
      samples: SAMPLES,
      floor_wg_set_p50_ms: floorP50,
      at_10: at10,
      at_1000: at1000,
      ratio_1000_to_10: ratio,
      meets_target: ratio <= 2,
      figures: {
        'floor: one direct `wg set … peer` (ip netns exec), p50 ms': floorP50,
        'AddConnection → peer applied, ~10 peers: p50 / p99 ms': `${at10.p50_ms} / ${at10.p99_ms}`,
        'AddConnection → peer applied, ~1,000 peers: p50 / p99 ms': `${at1000.p50_ms} / ${at1000.p99_ms}`,
        '1,000 vs 10 peers (p50; target ≤ 2×)': `${ratio}× — ${ratio <= 2 ? 'meets' : 'MISSES'} target`,
      },
    };
  } finally {
    if (service) await gw.exec(['ip', 'link', 'del', service.interface_name], { reject: false });
    await cluster.teardown();
    await gw.delete();
  }
}
