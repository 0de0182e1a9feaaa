import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest, encodeJson } from '@qnet/bus';
import type { DesiredState, DriverStatus, NetworkView, NicView } from '@qnet/contracts';
import { DryRunExecutor, linuxDriver, reconcile } from '@qnet/drivers';
import { waitFor } from '@qnet/stack';
import { TestCluster, Underlay } from '@qnet/testing';
import { cpuMs, quantile, round, rssKb } from './measure.js';

/**
 * B2: from the API call attaching a NIC to the moment every host of its overlay reported (status.linux)
 * that it applied forwarding entries for it. Targets: p99 < 100 ms with 3 real namespace hosts,
 * < 500 ms with 200 dry-run agents; messages per change grow with the network's hosts only.
 */
export interface ConvergenceResult {
  hosts: number;
  attaches: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  target_p99_ms: number;
  meets_target: boolean;
  /** Agent applies reported per attach (one per host of the network that received the push). */
  messages_per_change: number;
}

export interface B2Result {
  /** With each real agent's resident memory after the run and CPU per attach. */
  real_3_hosts: ConvergenceResult & { agents: { rss_mb: number[]; cpu_ms_per_change: number[] } };
  dry_run_200_hosts: ConvergenceResult;
  /** A 3-host overlay while 200 agents exist: messages per attach must stay 3. */
  small_network_among_200: { hosts_in_network: number; messages_per_change: number };
}

/** An agent's report with changes, timestamped on arrival. */
export interface Report {
  host: string;
  changes: string;
  at: number;
}

/**
 * Every status.linux report with changes, from now on. An agent may report before the API call
 * returns the NIC, so reports are matched to a NIC afterwards (appliedAt).
 */
export async function collectReports(
  observer: NatsConnection,
  onReport: () => void = () => undefined,
): Promise<{ reports: Report[]; stop(): void }> {
  const reports: Report[] = [];
  const sub = observer.subscribe('qnet.agent.*.status.linux', {
    callback: (err, m) => {
      if (err) throw err;
      const s = m.json<DriverStatus>();
      if (!s.changes.length) return;
      reports.push({ host: s.host_id, changes: JSON.stringify(s.changes), at: performance.now() });
      onReport();
    },
  });
  await observer.flush();
  return { reports, stop: () => sub.unsubscribe() };
}

/** When each host first reported applying `nic`, among the reports from index `first` on. */
export function appliedAt(
  reports: readonly Report[],
  first: number,
  nic: Pick<NicView, 'guest_mac' | 'host_dev_name'>,
): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of reports.slice(first))
    if (
      !seen.has(r.host) &&
      (r.changes.includes(nic.guest_mac) || r.changes.includes(nic.host_dev_name))
    )
      seen.set(r.host, r.at);
  return seen;
}

/**
 * Attaches TAP NICs one at a time, once the network is applied everywhere, and times each until
 * every host reported applying it.
 */
export async function measure(
  cluster: TestCluster,
  observer: NatsConnection,
  network: NetworkView,
  hosts: string[],
  attaches: number,
  targetMs: number,
  vmPrefix = `b2-${network.vni}`,
): Promise<ConvergenceResult> {
  // On a settled network: the first attach must not wait behind the network's own creation (200
  // agents applying it and reporting) or a fill.
  await waitFor(
    async () =>
      (await cluster.api<NetworkView>('GET', `/v1/networks/${network.id}`)).provisioning_status ===
      'ACTIVE',
    60_000,
    `network ${network.name} applied on every host`,
    20,
  );
  let onReport = () => {};
  const { reports, stop } = await collectReports(observer, () => onReport());
  const times: number[] = [];
  for (let i = 0; i < attaches; i++) {
    const first = reports.length;
    const t0 = performance.now();
    const nic = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: network.id,
      host_id: hosts[i % hosts.length],
      vm_id: `${vmPrefix}-${i}`,
      kind: 'tap',
    });
    /** When the last host applied this NIC, or undefined while one has not. */
    const convergedAt = () => {
      const seen = appliedAt(reports, first, nic);
      return hosts.every((h) => seen.has(h)) ? Math.max(...seen.values()) : undefined;
    };
    const at = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no convergence in 10 s')), 10_000);
      onReport = () => {
        const t = convergedAt();
        if (t !== undefined) {
          clearTimeout(timer);
          resolve(t);
        }
      };
      onReport();
    });
    times.push(at - t0);
  }
  const commands = reports.length;
  stop();
  const p99 = quantile(times, 0.99);
  return {
    hosts: hosts.length,
    attaches,
    p50_ms: round(quantile(times, 0.5), 2),
    p99_ms: round(p99, 2),
    max_ms: round(Math.max(...times), 2),
    target_p99_ms: targetMs,
    meets_target: p99 < targetMs,
    messages_per_change: round(commands / attaches, 2),
  };
}

/** Three host namespaces on one underlay, each with a real node-agent (netns mode), and an overlay. */
export interface RealOverlay {
  cluster: TestCluster;
  ids: string[];
  network: NetworkView;
  close(): Promise<void>;
}

/**
 * B2's hosts, with a registry and a gateway: hosts `<name>-1…3` on the underlay `<subnet>.0/24`
 * and the overlay `name` across them (also used by scripts/attach-timeline.mjs).
 */
export async function realOverlay(name: string, subnet: string): Promise<RealOverlay> {
  const ids = [1, 2, 3].map((i) => `${name}-${i}`);
  const cluster = await TestCluster.create({ hostIds: ids, env: { LOG_LEVEL: 'warn' } });
  const underlay = await Underlay.create(ids.length, subnet);
  const close = async () => {
    await cluster.teardown();
    await underlay.delete();
  };
  try {
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    ids.forEach((id, i) =>
      cluster.start(
        'node-agent',
        { hostId: id, mode: 'netns', netns: underlay.hosts[i]!.name },
        { QNET_UNDERLAY_IP: underlay.ip(i) },
      ),
    );
    await cluster.waitForHosts(ids, 30_000);
    const network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name,
      network_type: 'overlay',
      host_ids: ids,
      cidr: '10.128.0.0/16',
    });
    return { cluster, ids, network, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function realHosts(attaches: number): Promise<B2Result['real_3_hosts']> {
  const { cluster, ids, network, close } = await realOverlay('b2', '172.31.1');
  try {
    const observer = await cluster.connectAs('network-registry');
    const pids = ids.map((id) => cluster.apps.get(`node-agent-${id}`)!.child.pid!);
    const cpuBefore = pids.map(cpuMs);
    const result = await measure(cluster, observer, network, ids, attaches, 100);
    return {
      ...result,
      agents: {
        rss_mb: pids.map((pid) => round(rssKb(pid) / 1024, 1)),
        cpu_ms_per_change: pids.map((pid, k) => round((cpuMs(pid) - cpuBefore[k]!) / attaches, 2)),
      },
    };
  } finally {
    await close();
  }
}

/**
 * 200 agents in dry-run mode, simulated in this process: each has its own NATS user and
 * connection, registers, and applies every pushed state with the real linux driver's parse and
 * plan (commands recorded, not run) before reporting — the fan-out path without 200 processes.
 */
async function dryRunHosts(attaches: number): Promise<Omit<B2Result, 'real_3_hosts'>> {
  const ids = Array.from({ length: 200 }, (_, i) => `dr-${i}`);
  const cluster = await TestCluster.create({ hostIds: ids, env: { LOG_LEVEL: 'warn' } });
  try {
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    await Promise.all(
      ids.map(async (id, i) => {
        const nc = await cluster.connectAs(`agent-${id}`);
        const exec = new DryRunExecutor();
        const linux = linuxDriver();
        let previous: ReturnType<typeof linux.parse> | undefined;
        nc.subscribe(`qnet.agent.${id}.cmd.linux`, {
          callback: (_e, m) => {
            const state = m.json<DesiredState>();
            const spec = linux.parse(state.spec);
            void reconcile(linux, exec, spec, previous).then(({ changes }) => {
              previous = spec;
              const status: DriverStatus = {
                driver: 'linux',
                generation: state.generation,
                ok: true,
                changes,
                host_id: id,
                observed_at: new Date().toISOString(),
              };
              nc.publish(`qnet.agent.${id}.status.linux`, encodeJson(status));
            });
          },
        });
        await busRequest(nc, `qnet.agent.${id}.register`, {
          host_id: id,
          hostname: id,
          underlay_ip: `10.254.${i >> 8}.${(i & 255) + 1}`,
          capabilities: ['bridge', 'vxlan', 'nft_bridge'],
          mode: 'dry-run',
          drivers: ['linux'],
          agent_version: 'bench',
        });
      }),
    );
    const observer = await cluster.connectAs('network-registry');
    const big = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'b2-200',
      network_type: 'overlay',
      host_ids: ids,
      cidr: '10.129.0.0/16',
    });
    const result = await measure(cluster, observer, big, ids, attaches, 500);
    const small = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'b2-3-of-200',
      network_type: 'overlay',
      host_ids: ids.slice(0, 3),
      cidr: '10.130.0.0/16',
    });
    const few = await measure(cluster, observer, small, ids.slice(0, 3), 10, 500);
    return {
      dry_run_200_hosts: result,
      small_network_among_200: {
        hosts_in_network: 3,
        messages_per_change: few.messages_per_change,
      },
    };
  } finally {
    await cluster.teardown();
  }
}

export async function runB2(attaches: number): Promise<B2Result> {
  const real = await realHosts(attaches);
  return { real_3_hosts: real, ...(await dryRunHosts(attaches)) };
}
