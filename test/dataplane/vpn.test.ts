import { execa, type ResultPromise } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type {
  AuditEventView,
  ClientConfigView,
  ListAuditEventsResponse,
  NetworkView,
  VpnConnectionView,
  VpnServiceView,
  VpnStatusView,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { linkNamespaces, Netns, TestCluster, Underlay } from '@qnet/testing';

const VPN = '/limiquantix.network.v1.VpnService';

/**
 * Seed 000 part 2 on real WireGuard: a gateway host namespace whose agent runs wireguard-go, a
 * "VM" behind it in an exported subnet, a host in a subnet that is not exported, and client
 * namespaces running `wg-quick up` on exactly the config GetClientConfig returns.
 */
describe('WireGuard bastion: wg-quick clients through a wireguard-go gateway', () => {
  let cluster: TestCluster;
  let underlay: Underlay;
  let gw: Netns;
  let vm: Netns;
  let hidden: Netns;
  let service: VpnServiceView;
  const clients = new Map<string, { ns: Netns; conn: VpnConnectionView; iface: string }>();

  const wgKey = async () => (await execa('wg', ['genkey'])).stdout.trim();
  const pubOf = async (priv: string) =>
    (await execa('wg', ['pubkey'], { input: priv })).stdout.trim();
  const rpc = <T>(method: string, body: object) => cluster.api<T>('POST', `${VPN}/${method}`, body);
  const gatewayPeers = async () =>
    (await gw.exec(['wg', 'show', service.interface_name, 'peers'], { reject: false })).stdout
      .split('\n')
      .filter(Boolean);

  /** A veth from the gateway host to a new namespace: gateway .1, the namespace .10 of `subnet`. */
  async function lan(subnet: string, dev: string): Promise<Netns> {
    const ns = await Netns.create('qlan');
    await linkNamespaces(gw, dev, ns, 'eth0');
    await gw.exec(['ip', 'addr', 'add', `${subnet}.1/24`, 'dev', dev]);
    await gw.exec(['ip', 'link', 'set', dev, 'up']);
    await ns.exec(['ip', 'addr', 'add', `${subnet}.10/24`, 'dev', 'eth0']);
    await ns.exec(['ip', 'link', 'set', 'eth0', 'up']);
    // Deliberately no route back to the client pool: the gateway masquerades.
    return ns;
  }

  /** wg-quick up in client namespace `i` on the returned config, the private key filled in. */
  async function connect(
    name: string,
    i: number,
    conn: VpnConnectionView,
    privateKey: string,
    presharedKey = '',
  ) {
    const cfg = await rpc<ClientConfigView>('GetClientConfig', {
      vpn_service_id: service.id,
      connection_id: conn.id,
    });
    const iface = `qvc${i}`;
    const file = path.join(cluster.dir, `${iface}.conf`);
    const filled = cfg.config
      .replace('<YOUR_PRIVATE_KEY>', privateKey)
      .replace('<YOUR_PRESHARED_KEY>', presharedKey);
    writeFileSync(file, filled, { mode: 0o600 });
    const ns = underlay.hosts[i]!;
    await execa('ip', ['netns', 'exec', ns.name, 'wg-quick', 'up', file], {
      env: { WG_QUICK_USERSPACE_IMPLEMENTATION: 'wireguard-go' },
    });
    clients.set(name, { ns, conn, iface });
  }

  const ping = (name: string, to: string, count = 1) => clients.get(name)!.ns.ping(to, count);
  const startAgent = () =>
    cluster.start(
      'node-agent',
      { hostId: 'vpn-gw', mode: 'netns', netns: gw.name },
      { QNET_UNDERLAY_IP: underlay.ip(0) },
    );

  beforeAll(async () => {
    underlay = await Underlay.create(4, '172.30.9');
    gw = underlay.hosts[0]!;
    vm = await lan('10.0.1', 'lan1');
    hidden = await lan('10.0.3', 'lan3');
    // The hidden host would answer a client if the gateway let it through: only isolation stops it.
    await hidden.exec(['ip', 'route', 'add', 'default', 'via', '10.0.3.1']);
    cluster = await TestCluster.create({
      hostIds: ['vpn-gw'],
      env: {
        HEARTBEAT_INTERVAL_MS: '500',
        RESYNC_INTERVAL_MS: '2000',
        DRIVER_STATUS_INTERVAL_MS: '300',
      },
    });
    await cluster.startServices(['registry', 'vpn']);
    await cluster.startGateway();
    cluster.start(
      'node-agent',
      { hostId: 'vpn-gw', mode: 'netns', netns: gw.name },
      { QNET_UNDERLAY_IP: underlay.ip(0) },
    );
    await cluster.waitForHosts(['vpn-gw']);
  });

  afterAll(async () => {
    for (const c of clients.values())
      await c.ns.exec(['ip', 'link', 'del', c.iface], { reject: false });
    if (service) await gw.exec(['ip', 'link', 'del', service.interface_name], { reject: false });
    await cluster?.teardown();
    await Promise.all([underlay, vm, hidden].map((n) => n?.delete()));
  });

  it("creates the gateway with the seed's request and realizes it with wireguard-go", async () => {
    const net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'vpn-lan',
      bridge_name: 'qbrlan',
      cidr: '10.0.1.0/24',
      project_id: 'default',
    });
    service = await rpc<VpnServiceView>('CreateVpnService', {
      name: 'dev-vpn',
      network_id: net.id,
      project_id: 'default',
      router_id: 'router-456',
      external_ip: underlay.ip(0),
      local_subnets: ['10.0.1.0/24', '10.0.2.0/24'],
    });
    expect(service).toMatchObject({
      host_id: 'vpn-gw',
      listen_port: 51820,
      client_pool: '10.99.0.0/24',
    });
    await waitFor(
      async () =>
        (await rpc<VpnServiceView>('GetVpnService', { id: service.id })).provisioning_status ===
        'ACTIVE',
      10_000,
      'the gateway ACTIVE',
    );
    const shown = await gw.exec(['wg', 'show', service.interface_name, 'public-key']);
    expect(shown.stdout.trim()).toBe(service.public_key);
  });

  it('a client pings the VM with the returned config; another gets a generated key pair', async () => {
    const priv = await wgKey();
    const alice = await rpc<VpnConnectionView>('AddConnection', {
      vpn_service_id: service.id,
      name: 'johns-laptop',
      peer_address: '10.99.0.10/32',
      peer_public_key: await pubOf(priv),
    });
    expect(alice.private_key).toBeUndefined();
    await connect('alice', 1, alice, priv);
    const bob = await rpc<VpnConnectionView>('AddConnection', {
      vpn_service_id: service.id,
      name: 'bob',
    });
    expect(bob.peer_address).toBe('10.99.0.2/32');
    expect(await pubOf(bob.private_key!)).toBe(bob.peer_public_key);
    await connect('bob', 2, bob, bob.private_key!);
    await waitFor(() => ping('alice', '10.0.1.10'), 10_000, 'alice → VM');
    await waitFor(() => ping('bob', '10.0.1.10'), 10_000, 'bob → VM');
  });

  it('a client that widens its AllowedIPs still cannot reach what is not exported', async () => {
    const { ns, iface } = clients.get('alice')!;
    await ns.exec(['wg', 'set', iface, 'peer', service.public_key, 'allowed-ips', '0.0.0.0/0']);
    await ns.exec(['ip', 'route', 'add', '10.0.3.0/24', 'dev', iface]);
    await ns.exec(['ip', 'route', 'add', '10.99.0.0/24', 'dev', iface]);
    expect(await ping('alice', '10.0.3.10', 2)).toBe(false);
    expect(await ping('alice', '10.0.3.1', 2)).toBe(false); // the gateway's own address there
    expect(await ping('alice', '10.0.1.10')).toBe(true);

    // Control: without the agent's table the same ping goes through, so the table is what stops
    // it; a restarted agent puts it back (and the tunnels live on without their agent meanwhile).
    await cluster.stop('node-agent-vpn-gw');
    await gw.exec(['nft', 'delete', 'table', 'inet', 'qnet_vpn']);
    expect(await ping('alice', '10.0.3.10', 2)).toBe(true);
    startAgent();
    await waitFor(async () => !(await ping('alice', '10.0.3.10', 1)), 10_000, 'isolation restored');
    expect(await ping('bob', '10.0.1.10')).toBe(true);
  });

  it('status shows handshakes and traffic; handshakes are audited', async () => {
    await waitFor(
      async () => {
        const s = await cluster.api<VpnStatusView>(
          'GET',
          `/api/v1/vpn-services/${service.id}/status`,
        );
        return (
          s.operating_status === 'ONLINE' &&
          s.connections.every((c) => c.connected && c.rx_bytes > 0)
        );
      },
      10_000,
      'both connections connected in GetVpnStatus',
    );
    const audit = await cluster.api<ListAuditEventsResponse>(
      'GET',
      `/api/v1/vpn-services/${service.id}/audit-events`,
    );
    const actions = audit.events.map((e: AuditEventView) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['vpn_service.created', 'connection.added', 'connection.connected']),
    );
  });

  it("rotating or removing alice never disturbs bob's session", async () => {
    const bobPing: ResultPromise = execa(
      'ip',
      [
        'netns',
        'exec',
        clients.get('bob')!.ns.name,
        'ping',
        '-c',
        '40',
        '-i',
        '0.2',
        '-W',
        '1',
        '10.0.1.10',
      ],
      { reject: false },
    );
    const alice = clients.get('alice')!;
    const rotated = await rpc<VpnConnectionView>('RotateConnectionKey', {
      vpn_service_id: service.id,
      connection_id: alice.conn.id,
    });
    await waitFor(
      async () => (await gatewayPeers()).includes(rotated.peer_public_key),
      5_000,
      'new key on the gateway',
    );
    expect(await gatewayPeers()).not.toContain(alice.conn.peer_public_key);
    expect(await ping('alice', '10.0.1.10', 2)).toBe(false); // the old key no longer works
    const keyFile = path.join(cluster.dir, 'alice-new.key');
    writeFileSync(keyFile, rotated.private_key!, { mode: 0o600 });
    await alice.ns.exec(['wg', 'set', alice.iface, 'private-key', keyFile]);
    await waitFor(() => ping('alice', '10.0.1.10'), 10_000, 'alice with the new key');

    const removal = performance.now();
    await rpc('RemoveConnection', { vpn_service_id: service.id, connection_id: alice.conn.id });
    // Within a second of the call the gateway no longer has alice, so her next ping cannot pass.
    await waitFor(
      async () => !(await gatewayPeers()).includes(rotated.peer_public_key),
      1_000 - (performance.now() - removal),
      "alice's peer off the gateway within 1 s of RemoveConnection",
      10,
    );
    console.log(`alice cut off ${Math.round(performance.now() - removal)} ms after the call`);
    expect(await ping('alice', '10.0.1.10', 1)).toBe(false);
    expect(await gatewayPeers()).toEqual([clients.get('bob')!.conn.peer_public_key]);

    const bob = await bobPing;
    expect(String(bob.stdout)).toMatch(/40 packets transmitted, 40 received, 0% packet loss/);
  });

  it('a client with a preshared key gets through only with that key', async () => {
    const psk = (await execa('wg', ['genpsk'])).stdout.trim();
    const carol = await rpc<VpnConnectionView>('AddConnection', {
      vpn_service_id: service.id,
      name: 'carol',
      preshared_key: psk,
    });
    expect(carol).toMatchObject({ has_preshared_key: true });
    const wrong = (await execa('wg', ['genpsk'])).stdout.trim();
    await connect('carol', 3, carol, carol.private_key!, wrong);
    expect(await ping('carol', '10.0.1.10', 3)).toBe(false);
    const pskFile = path.join(cluster.dir, 'carol.psk');
    writeFileSync(pskFile, psk, { mode: 0o600 });
    const { ns, iface } = clients.get('carol')!;
    await ns.exec(['wg', 'set', iface, 'peer', service.public_key, 'preshared-key', pskFile]);
    // WireGuard retries a failed handshake after 5 s.
    await waitFor(() => ping('carol', '10.0.1.10'), 15_000, 'carol with the right PSK');
  });

  it('deleting the service removes its interface and the isolation table', async () => {
    await cluster.api('DELETE', `/api/v1/vpn-services/${service.id}`);
    await waitFor(
      async () =>
        (await gw.exec(['ip', 'link', 'show', service.interface_name], { reject: false }))
          .exitCode !== 0,
      5_000,
      'interface gone',
    );
    await waitFor(
      async () =>
        (await gw.exec(['nft', 'list', 'table', 'inet', 'qnet_vpn'], { reject: false }))
          .exitCode !== 0,
      5_000,
      'qnet_vpn table gone',
    );
  });
});
