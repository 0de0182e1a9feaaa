import type { NatsConnection } from '@nats-io/transport-node';
import { execa } from 'execa';
import { busRequest, encodeJson } from '@qnet/bus';
import type { ApplyResult } from '@qnet/contracts';
import { Netns, TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

/**
 * A host is a network namespace run by a real node-agent process (netns mode). The test plays the
 * control plane: it answers the agent's desired-state pulls. Two "VMs" (namespaces) are wired to
 * the bridge the agent built, and must reach each other through it.
 */
describe('node agent drives a real kernel inside its host namespace', () => {
  let cluster: TestCluster;
  let control: NatsConnection;
  let host: Netns;
  const vms: Netns[] = [];
  let desired = {
    driver: 'linux',
    generation: 1,
    spec: { bridges: [{ name: 'qbr0', mtu: 1450 }] },
  };

  const bridge = async () => {
    const r = await host.exec(['ip', '-j', '-d', 'link', 'show', 'qbr0'], { reject: false });
    return r.exitCode === 0
      ? (JSON.parse(r.stdout) as { mtu: number; ifalias?: string; flags: string[] }[])[0]
      : undefined;
  };

  /** vmN: a namespace with 10.77.0.N/24 on a veth whose peer sits in the host namespace, in qbr0. */
  async function wireVm(n: number): Promise<Netns> {
    const vm = await Netns.create('qvm');
    await execa('ip', [
      'link',
      'add',
      `qv${n}h`,
      'netns',
      host.name,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      vm.name,
    ]);
    await host.exec(['ip', 'link', 'set', `qv${n}h`, 'master', 'qbr0', 'mtu', '1450', 'up']);
    await vm.exec(['ip', 'addr', 'add', `10.77.0.${n}/24`, 'dev', 'eth0']);
    await vm.exec(['ip', 'link', 'set', 'eth0', 'mtu', '1450', 'up']);
    vms.push(vm);
    return vm;
  }

  beforeAll(async () => {
    host = await Netns.create('qhost');
    cluster = await TestCluster.create({
      hostIds: ['dp-1'],
      env: { HEARTBEAT_INTERVAL_MS: '300', RESYNC_INTERVAL_MS: '400' },
    });
    control = await cluster.connectAs('network-registry');
    control.subscribe('qnet.agent.dp-1.desired.linux', {
      callback: (_e, m) => void m.respond(encodeJson({ data: desired })),
    });
    await control.flush();
    cluster.start('node-agent', { hostId: 'dp-1', mode: 'netns', netns: host.name });
  });
  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([host, ...vms].map((n) => n?.delete()));
  });

  it('builds the desired bridge in its namespace on start, and nothing on the machine itself', async () => {
    await waitFor(async () => (await bridge()) !== undefined, 10_000, 'qbr0 in the host namespace');
    expect(await bridge()).toMatchObject({
      mtu: 1450,
      ifalias: 'qnet-managed',
      flags: expect.arrayContaining(['UP']),
    });
    const rootNs = await execa('ip', ['link', 'show', 'qbr0'], { reject: false });
    expect(rootNs.exitCode).not.toBe(0);
  });

  it('forwards packets between two VMs attached to that bridge', async () => {
    const vm1 = await wireVm(1);
    await wireVm(2);
    expect(await vm1.ping('10.77.0.2', 3)).toBe(true);
  });

  it('repairs drift: a bridge deleted by hand comes back with the next resync and traffic is restored', async () => {
    await host.exec(['ip', 'link', 'del', 'qbr0']);
    await waitFor(async () => (await bridge()) !== undefined, 5_000, 'qbr0 recreated');
    // The veths lost their master with the old bridge; re-attach them as their own driver would.
    for (const n of [1, 2])
      await host.exec(['ip', 'link', 'set', `qv${n}h`, 'master', 'qbr0', 'up']);
    expect(await vms[0]!.ping('10.77.0.2', 3)).toBe(true);
  });

  it('an agent restart converges without changing anything', async () => {
    expect(await cluster.stop('node-agent-dp-1')).toBe(0);
    const before = await host.exec(['ip', '-j', 'link', 'show', 'qbr0']);
    cluster.start('node-agent', { hostId: 'dp-1', mode: 'netns', netns: host.name });
    const started = async () =>
      (await cluster.logs('node-agent-dp-1')).filter((l) => String(l.msg).includes('in netns mode'))
        .length;
    await waitFor(async () => (await started()) === 2, 10_000, 'the restarted agent');
    // It logs its start before its command subscription reaches the server.
    const answers = () =>
      busRequest(control, 'qnet.agent.dp-1.cmd.ping', {}).then(
        () => true,
        () => false,
      );
    await waitFor(answers, 10_000, 'the restarted agent answering');
    const result = await busRequest<ApplyResult>(control, 'qnet.agent.dp-1.cmd.linux', desired);
    expect(result).toMatchObject({ ok: true, changes: [] });
    const after = await host.exec(['ip', '-j', 'link', 'show', 'qbr0']);
    expect(JSON.parse(after.stdout)[0].ifindex).toBe(JSON.parse(before.stdout)[0].ifindex);
    expect(await vms[0]!.ping('10.77.0.2', 2)).toBe(true);
  });

  it('removes only what it owns when the desired state drops it', async () => {
    await host.exec(['ip', 'link', 'add', 'foreign0', 'type', 'bridge']);
    desired = { driver: 'linux', generation: 2, spec: { bridges: [] } };
    const result = await busRequest<ApplyResult>(control, 'qnet.agent.dp-1.cmd.linux', desired);
    expect(result.changes).toEqual([['ip', 'link', 'del', 'dev', 'qbr0']]);
    expect(await bridge()).toBeUndefined();
    expect((await host.exec(['ip', 'link', 'show', 'foreign0'], { reject: false })).exitCode).toBe(
      0,
    );
    expect(await vms[0]!.ping('10.77.0.2', 1)).toBe(false);
  });
});

/**
 * A push is planned against what the agent's last apply left, not against a fresh listing of the
 * host: drift it does not know of makes a command fail, and that change is then planned again
 * against the whole host — the push still converges, without waiting for the resync (disabled
 * here: one every ten minutes).
 */
describe('a push on a host that drifted since the last apply', () => {
  let cluster: TestCluster;
  let control: NatsConnection;
  let host: Netns;
  let desired = {
    driver: 'linux',
    generation: 1,
    spec: { bridges: [{ name: 'qbr1', mtu: 1500 }], taps: [{ name: 'qtap1', bridge: 'qbr1' }] },
  };
  const push = async (generation: number, spec: typeof desired.spec) => {
    desired = { driver: 'linux', generation, spec };
    return busRequest<ApplyResult>(control, 'qnet.agent.dp-2.cmd.linux', desired);
  };
  const masterOf = async (dev: string) => {
    const r = await host.exec(['ip', '-j', 'link', 'show', dev], { reject: false });
    return r.exitCode === 0 ? ((JSON.parse(r.stdout)[0].master as string) ?? '') : undefined;
  };

  beforeAll(async () => {
    host = await Netns.create('qhost');
    cluster = await TestCluster.create({
      hostIds: ['dp-2'],
      env: { HEARTBEAT_INTERVAL_MS: '500', RESYNC_INTERVAL_MS: '600000' },
    });
    control = await cluster.connectAs('network-registry');
    control.subscribe('qnet.agent.dp-2.desired.linux', {
      callback: (_e, m) => void m.respond(encodeJson({ data: desired })),
    });
    await control.flush();
    cluster.start('node-agent', { hostId: 'dp-2', mode: 'netns', netns: host.name });
    await waitFor(async () => (await masterOf('qtap1')) === 'qbr1', 10_000, 'qtap1 in qbr1');
  });
  afterAll(async () => {
    await cluster?.teardown();
    await host?.delete();
  });

  it('rebuilds a bridge deleted by hand when a push adds a port to it', async () => {
    await host.exec(['ip', 'link', 'del', 'qbr1']);
    const taps = [
      { name: 'qtap1', bridge: 'qbr1' },
      { name: 'qtap2', bridge: 'qbr1' },
    ];
    const result = await push(2, { bridges: [{ name: 'qbr1', mtu: 1500 }], taps });
    expect(result.ok).toBe(true);
    expect(result.changes).toContainEqual(expect.arrayContaining(['ip', 'link', 'add', 'qbr1']));
    expect(await masterOf('qtap1')).toBe('qbr1');
    expect(await masterOf('qtap2')).toBe('qbr1');
  });

  it('removes a port already deleted by hand without failing', async () => {
    await host.exec(['ip', 'link', 'del', 'qtap2']);
    const result = await push(3, {
      bridges: [{ name: 'qbr1', mtu: 1500 }],
      taps: [{ name: 'qtap1', bridge: 'qbr1' }],
    });
    expect(result).toMatchObject({ ok: true, changes: [] });
    expect(await masterOf('qtap1')).toBe('qbr1');
  });

  it('plans an undrifted push from the last apply: only the new port', async () => {
    const result = await push(4, {
      bridges: [{ name: 'qbr1', mtu: 1500 }],
      taps: [
        { name: 'qtap1', bridge: 'qbr1' },
        { name: 'qtap3', bridge: 'qbr1' },
      ],
    });
    expect(result.ok).toBe(true);
    expect(result.changes.map((c) => c.slice(0, 5).join(' '))).toEqual([
      'ip tuntap add dev qtap3',
      'ip link set dev qtap3',
      'ip link set dev qtap3',
    ]);
    expect(await masterOf('qtap3')).toBe('qbr1');
  });
});
