import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BgpSpeakerView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { FrrInstance, GobgpTor, TestCluster, Underlay, type RibMonitor } from '@qnet/testing';
import { latencySeries, quantile, round } from './measure.js';

const BGP = '/limiquantix.network.v1.BGPService';
const SAMPLES = 20;
const BULK = 1_000;
/** The seeds' "within 5 s" for an advertisement to reach the ToR. */
const TARGET_P99_MS = 5_000;

/**
 * B7: AdvertiseNetwork API call → the prefix in the ToR's RIB (gobgpd, over TCP-MD5), timed at the
 * update's arrival on `gobgp monitor`, p50/p99, with one and with 1,000 advertisements on the
 * speaker; and 1,000 advertisements applied (render + frr-reload.py) with the session staying up.
 * Floors in the same run: the same one-prefix change as a direct `frr-reload.py` of a hand-written
 * file (what the agent runs), and as a direct `vtysh` network statement (BGP alone).
 */
export interface B7Result {
  samples: number;
  floor_vtysh_p50_ms: number;
  floor_frr_reload_p50_ms: number;
  at_1: { p50_ms: number; p99_ms: number };
  at_1000: { p50_ms: number; p99_ms: number };
  bulk_1000_calls_ms: number;
  bulk_1000_ms: number;
  session_resets: number;
  meets_target: boolean;
  figures: Record<string, string | number>;
}

/** 10.<a>.<b>.0/24 for the n-th prefix. */
const prefixAt = (n: number) => `10.${Math.floor(n / 256) + 1}.${n % 256}.0/24`;

export async function runB7(): Promise<B7Result> {
  const underlay = await Underlay.create(2, '192.168.77');
  const [node, torNs] = underlay.hosts as [(typeof underlay.hosts)[0], (typeof underlay.hosts)[0]];
  const frr = await FrrInstance.start(node);
  const tor = await GobgpTor.start(torNs, {
    asn: 65000,
    routerId: underlay.ip(1),
    neighbors: [{ address: underlay.ip(0), asn: 65001, password: 'b7-md5-key' }],
  });
  const cluster = await TestCluster.create({
    hostIds: ['b7-node'],
    env: {
      LOG_LEVEL: 'warn',
      DRIVER_STATUS_INTERVAL_MS: '1000',
      BGP_ALLOWED_PREFIXES: '10.0.0.0/8',
    },
  });
  let rib: RibMonitor | undefined;
  try {
    await cluster.startServices(['registry', 'bgp']);
    await cluster.startGateway();
    rib = await tor.monitor();
    // Before the agent starts: it owns the node's FRR and would revert the floors' configuration.
    const floors = await measureFloors(frr, tor, rib, underlay.ip(0), underlay.ip(1));
    await frr.startAgent(cluster, 'b7-node', { COMMAND_TIMEOUT_MS: '60000' });

    const speaker = await cluster.api<BgpSpeakerView>('POST', `${BGP}/CreateSpeaker`, {
      node_id: 'b7-node',
      local_asn: 65001,
      router_id: underlay.ip(0),
    });
    await cluster.api('POST', `${BGP}/AddPeer`, {
      speaker_id: speaker.id,
      name: 'tor',
      peer_address: underlay.ip(1),
      peer_asn: 65000,
      password: 'b7-md5-key',
    });
    await waitFor(
      async () => (await tor.sessions()).get(underlay.ip(0)) === 'established',
      60_000,
      'the MD5 session',
    );
    const established = await connectionsEstablished(frr, underlay.ip(1));
    let n = 0;
    const advertise = (prefix = prefixAt(n++)) =>
      cluster.api('POST', `${BGP}/AdvertiseNetwork`, {
        speaker_id: speaker.id,
        prefix,
        communities: ['65001:100'],
        local_pref: 100,
      });
    const timed = async () => {
      const prefix = prefixAt(n++);
      const t0 = performance.now();
      await advertise(prefix);
      return (await rib!.until(prefix)) - t0;
    };
    const series = () => latencySeries(SAMPLES, timed);

    const at1 = await series();
    const bulkStart = performance.now();
    const first = n;
    while (n < first + BULK) await Promise.all(Array.from({ length: 20 }, () => advertise()));
    const callsMs = round(performance.now() - bulkStart);
    await Promise.all(Array.from({ length: n - first }, (_, i) => rib!.until(prefixAt(first + i))));
    const bulkMs = round(performance.now() - bulkStart);
    const at1000 = await series();
    const resets = (await connectionsEstablished(frr, underlay.ip(1))) - established;
    const meets = at1.p99_ms <= TARGET_P99_MS && at1000.p99_ms <= TARGET_P99_MS && resets === 0;
    return {
      samples: SAMPLES,
      floor_vtysh_p50_ms: floors.vtysh,
      floor_frr_reload_p50_ms: floors.reload,
      at_1: at1,
      at_1000: at1000,
      bulk_1000_calls_ms: callsMs,
      bulk_1000_ms: bulkMs,
      session_resets: resets,
      meets_target: meets,
      figures: {
        'floor: direct `vtysh` network statement → ToR RIB, p50 ms': floors.vtysh,
        'floor: direct `frr-reload.py` adding one prefix → ToR RIB, p50 ms': floors.reload,
        'AdvertiseNetwork → ToR RIB, a few advertisements: p50 / p99 ms': `${at1.p50_ms} / ${at1.p99_ms}`,
        [`${BULK} AdvertiseNetwork calls (20 at a time): calls answered / all in the ToR RIB`]: `${callsMs} / ${bulkMs} ms`,
        [`AdvertiseNetwork → ToR RIB, ~${BULK} advertisements: p50 / p99 ms`]: `${at1000.p50_ms} / ${at1000.p99_ms}`,
        'session resets during all of it': resets,
        'target: p99 ≤ 5 s at both sizes, no reset': meets ? 'meets' : 'MISSES',
      },
    };
  } finally {
    await rib?.stop();
    await cluster.teardown();
    await tor.stop();
    await frr.stop();
    await underlay.delete();
  }
}

async function connectionsEstablished(frr: FrrInstance, peer: string): Promise<number> {
  const neighbors = JSON.parse((await frr.vtysh('show bgp neighbors json'))!) as Record<
    string,
    { connectionsEstablished?: number }
  >;
  return neighbors[peer]?.connectionsEstablished ?? 0;
}

/**
 * The least a control plane driving FRR can do, on a plain session (no agent, no MD5): one prefix
 * added by `vtysh` commands, and by `frr-reload.py` of a file — then torn down again.
 */
async function measureFloors(
  frr: FrrInstance,
  tor: GobgpTor,
  rib: RibMonitor,
  nodeIp: string,
  torIp: string,
): Promise<{ vtysh: number; reload: number }> {
  const file = path.join(os.tmpdir(), `qnet-b7-${process.pid}.conf`);
  const conf = (prefixes: string[]) =>
    [
      'frr defaults traditional',
      'router bgp 65001',
      ` bgp router-id ${nodeIp}`,
      ' no bgp default ipv4-unicast',
      ' no bgp network import-check',
      // No route-maps here: without this FRR sends an eBGP peer nothing.
      ' no bgp ebgp-requires-policy',
      ` neighbor ${torIp} remote-as 65000`,
      ` neighbor ${torIp} password b7-md5-key`,
      ' address-family ipv4 unicast',
      ...prefixes.map((p) => `  network ${p}`),
      `  neighbor ${torIp} activate`,
      ' exit-address-family',
      'exit',
      '',
    ].join('\n');
  const reload = async (prefixes: string[]) => {
    await writeFile(file, conf(prefixes), { mode: 0o600 });
    await frr.ns.exec(['/usr/lib/frr/frr-reload.py', '--reload', '-N', frr.pathspace, file]);
  };
  await reload([]);
  await waitFor(
    async () => (await tor.sessions()).get(nodeIp) === 'established',
    60_000,
    'floor session',
  );
  const vtysh: number[] = [];
  const reloads: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const prefix = `172.16.${i}.0/24`;
    const t0 = performance.now();
    await frr.configure('router bgp 65001', 'address-family ipv4 unicast', `network ${prefix}`);
    vtysh.push((await rib.until(prefix)) - t0);
  }
  for (let i = 0; i < SAMPLES; i++) {
    const prefix = `172.17.${i}.0/24`;
    const t0 = performance.now();
    await reload([prefix]);
    reloads.push((await rib.until(prefix)) - t0);
  }
  // Back to nothing, as the agent will find it.
  await frr.configure('no router bgp 65001');
  await waitFor(
    async () => (await tor.sessions()).get(nodeIp) !== 'established',
    30_000,
    'floor session down',
  );
  await rm(file, { force: true });
  return { vtysh: round(quantile(vtysh, 0.5)), reload: round(quantile(reloads, 0.5)) };
}
