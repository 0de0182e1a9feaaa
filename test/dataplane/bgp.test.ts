import { readFileSync, statSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import type {
  BgpAdvertisementView,
  BgpPeerView,
  BgpSpeakerDetailedStatus,
  BgpSpeakerView,
  DriverStatus,
  ListBgpPeersResponse,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { FrrInstance, GobgpTor, TestCluster, Underlay } from '@qnet/testing';

const BGP = '/limiquantix.network.v1.BGPService';
const NODE = 'bgp-node';
const PASSWORD = 'bgp-md5-secret';

/**
 * Seed 000 part 3 and seed 001 on real daemons: a node namespace whose agent drives its own FRR
 * (zebra + bgpd), and top-of-rack namespaces running gobgpd — an independent BGP implementation —
 * with TCP-MD5, all on one L2 underlay.
 */
describe('BGP ToR integration: FRR on the node, gobgpd as the ToR', () => {
  let cluster: TestCluster;
  let underlay: Underlay;
  let frr: FrrInstance;
  let tor: GobgpTor;
  let tor2: GobgpTor;
  /** In the node's own AS: an iBGP peer, whose routes arrive with an empty AS path. */
  let tor3: GobgpTor;
  let speaker: BgpSpeakerView;
  let peer: BgpPeerView;
  let observer: NatsConnection;
  const events: { type: string; data: { to?: string } }[] = [];

  const rpc = <T>(method: string, body: object) => cluster.api<T>('POST', `${BGP}/${method}`, body);
  const peers = async () =>
    (await rpc<ListBgpPeersResponse>('ListBGPPeers', { speaker_id: speaker.id })).peers;
  const peerNamed = async (name: string) => (await peers()).find((p) => p.name === name)!;
  const frrNeighbor = async (address: string) =>
    (
      JSON.parse((await frr.vtysh('show bgp neighbors json'))!) as Record<
        string,
        {
          connectionsEstablished: number;
        }
      >
    )[address];

  beforeAll(async () => {
    underlay = await Underlay.create(4, '192.168.1');
    const [node, tor1Ns, tor2Ns, tor3Ns] = underlay.hosts;
    frr = await FrrInstance.start(node!);
    tor = await GobgpTor.start(tor1Ns!, {
      asn: 65000,
      routerId: underlay.ip(1),
      neighbors: [{ address: underlay.ip(0), asn: 65001, password: PASSWORD }],
    });
    tor2 = await GobgpTor.start(tor2Ns!, {
      asn: 65002,
      routerId: underlay.ip(2),
      neighbors: [{ address: underlay.ip(0), asn: 65001, password: 'the-right-password' }],
    });
    tor3 = await GobgpTor.start(tor3Ns!, {
      asn: 65001,
      routerId: underlay.ip(3),
      neighbors: [{ address: underlay.ip(0), asn: 65001 }],
    });
    cluster = await TestCluster.create({
      hostIds: [NODE],
      env: {
        HEARTBEAT_INTERVAL_MS: '500',
        RESYNC_INTERVAL_MS: '2000',
        DRIVER_STATUS_INTERVAL_MS: '300',
      },
    });
    await cluster.startServices(['registry', 'bgp']);
    await cluster.startGateway();
    await frr.startAgent(cluster, NODE, { QNET_UNDERLAY_IP: underlay.ip(0) });
    observer = await cluster.connectAs('observer');
    observer.subscribe('qnet.evt.bgp.>', {
      callback: (_e, m) => {
        events.push(m.json());
      },
    });
    // The route filter: the node may advertise what lies in its project's networks.
    await cluster.api('POST', '/v1/networks', {
      name: 'overlay',
      bridge_name: 'qbrovl',
      cidr: '10.0.0.0/16',
    });
  });

  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([tor, tor2, tor3, frr].map((d) => d?.stop()));
    await underlay?.delete();
  });

  it("creates the speaker and its MD5 peer with seed 000's requests and the session comes up", async () => {
    speaker = await rpc<BgpSpeakerView>('CreateBGPSpeaker', {
      node_id: NODE,
      local_asn: 65001,
      router_id: underlay.ip(0),
      project_id: 'default',
    });
    peer = await rpc<BgpPeerView>('AddBGPPeer', {
      speaker_id: speaker.id,
      name: 'tor-switch-1',
      peer_address: underlay.ip(1),
      peer_asn: 65000,
      password: PASSWORD,
    });
    expect(peer).toMatchObject({ has_password: true, peer_asn: 65000 });
    expect(JSON.stringify(peer)).not.toContain(PASSWORD);
    await waitFor(
      async () => (await tor.sessions()).get(underlay.ip(0)) === 'established',
      30_000,
      'the ToR to see the session established',
    );
    await waitFor(
      async () => (await peerNamed('tor-switch-1')).status.state === 'ESTABLISHED',
      5_000,
      'ListBGPPeers to say ESTABLISHED',
    );
    const s = await rpc<BgpSpeakerView>('GetSpeaker', { id: speaker.id });
    expect(s.status).toMatchObject({ phase: 'active', established_peers: 1 });
    await waitFor(
      async () =>
        events.some((e) => e.type === 'bgp.peer.state_changed' && e.data.to === 'ESTABLISHED'),
      5_000,
      'a bgp.peer.state_changed event',
    );
  });

  it('keeps the MD5 password sealed in the database and 0600 on the node, never in logs', async () => {
    const [row] = await cluster.db.query<{ password_sealed: string }>(
      `SELECT password_sealed FROM bgp.bgp_peers WHERE id = $1`,
      [peer.id],
    );
    expect(row!.password_sealed).not.toContain(PASSWORD);
    const conf = `/etc/frr/${frr.pathspace}/frr.conf`;
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(readFileSync(conf, 'utf8')).toContain(`neighbor ${underlay.ip(1)} password ${PASSWORD}`);
    for (const app of ['bgp', `node-agent-${NODE}`, 'gateway'])
      expect(JSON.stringify(await cluster.logs(app))).not.toContain(PASSWORD);
  });

  it('advertises 10.0.1.0/24 with its community and next hop to the ToR within 5 s', async () => {
    const started = Date.now();
    await rpc<BgpAdvertisementView>('AdvertiseNetwork', {
      speaker_id: speaker.id,
      prefix: '10.0.1.0/24',
      next_hop: underlay.ip(0),
      communities: ['65001:100'],
      local_pref: 100,
    });
    await waitFor(async () => (await tor.rib()).has('10.0.1.0/24'), 5_000, 'the prefix at the ToR');
    console.log(`AdvertiseNetwork → ToR RIB: ${Date.now() - started} ms`);
    expect((await tor.rib()).get('10.0.1.0/24')).toMatchObject({
      next_hop: underlay.ip(0),
      communities: ['65001:100'],
      as_path: [65001],
    });
    await waitFor(
      async () => (await peerNamed('tor-switch-1')).status.prefixes_sent >= 1,
      5_000,
      'prefixes_sent ≥ 1',
    );
  });

  it('resyncs without touching FRR when nothing changed (running config = rendered config)', async () => {
    // The last change's own apply may still be finishing (frr-reload.py writes the config after
    // the ToR already has the route): only what comes after it applied counts.
    await waitFor(
      async () =>
        (await rpc<BgpSpeakerView>('GetSpeaker', { id: speaker.id })).status.phase === 'active',
      10_000,
      'the last change applied',
    );
    const applies: DriverStatus[] = [];
    const sub = observer.subscribe(`qnet.agent.${NODE}.status.frr`, {
      callback: (_e, m) => {
        const report = m.json<DriverStatus>();
        if (report.observed === undefined) applies.push(report);
      },
    });
    await new Promise((r) => setTimeout(r, 5_000));
    sub.unsubscribe();
    expect(applies.length).toBeGreaterThanOrEqual(2);
    expect(applies.filter((a) => !a.ok || a.changes.length)).toEqual([]);
  });

  it('counts the routes the ToR announces as prefixes_received', async () => {
    await tor.announce('172.20.0.0/24');
    await waitFor(
      async () => (await peerNamed('tor-switch-1')).status.prefixes_received === 1,
      5_000,
      'prefixes_received = 1',
    );
  });

  it('adds a second prefix without resetting the session, and withdraws the first within 5 s', async () => {
    const before = await peerNamed('tor-switch-1');
    await rpc('AdvertiseNetwork', { speaker_id: speaker.id, prefix: '10.0.2.0/24' });
    await waitFor(async () => (await tor.rib()).has('10.0.2.0/24'), 5_000, 'the second prefix');
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await peerNamed('tor-switch-1');
    expect(after.status.state).toBe('ESTABLISHED');
    expect(after.status.uptime_seconds).toBeGreaterThan(before.status.uptime_seconds);
    expect((await frrNeighbor(underlay.ip(1)))!.connectionsEstablished).toBe(1);

    await rpc('WithdrawNetwork', { speaker_id: speaker.id, prefix: '10.0.1.0/24' });
    await waitFor(async () => !(await tor.rib()).has('10.0.1.0/24'), 5_000, 'the withdrawal');
    expect((await tor.rib()).has('10.0.2.0/24')).toBe(true);
    const status = () =>
      cluster.api<BgpSpeakerDetailedStatus>('GET', `/api/v1/bgp-speakers/${speaker.id}/status`);
    await waitFor(async () => (await status()).status.phase === 'ACTIVE', 5_000, 'phase ACTIVE');
    expect(await status()).toMatchObject({
      speaker_id: speaker.id,
      status: { phase: 'ACTIVE', active_peers: 1, advertised_routes: 1 },
      peers: [{ peer_ip: underlay.ip(1), remote_asn: 65000, state: 'ESTABLISHED' }],
      advertisements: [{ cidr: '10.0.2.0/24', active: true }],
    });
  });

  it('never establishes a peer with the wrong password, and says so', async () => {
    await cluster.api('POST', `/api/v1/bgp-speakers/${speaker.id}/peers`, {
      name: 'tor-switch-2',
      peer_ip: underlay.ip(2),
      remote_asn: 65002,
      md5_password: 'a-wrong-password',
      hold_time: 9,
      keepalive_interval: 3,
    });
    await waitFor(
      async () =>
        (await peerNamed('tor-switch-2')).status.last_error.startsWith('never established'),
      10_000,
      'the wrong-password peer to report why it is down',
    );
    await new Promise((r) => setTimeout(r, 4_000));
    const p = await peerNamed('tor-switch-2');
    expect(p.status.state).not.toBe('ESTABLISHED');
    expect(p.status.last_error).toContain('MD5 password');
    expect((await tor2.sessions()).get(underlay.ip(0))).not.toBe('established');
    expect((await peerNamed('tor-switch-1')).status.state).toBe('ESTABLISHED');
  });

  it('sends each ToR only what the node originates, never what it learned from another', async () => {
    const wrong = await peerNamed('tor-switch-2');
    await rpc('RemovePeer', { speaker_id: speaker.id, peer_id: wrong.id });
    await rpc('AddPeer', {
      speaker_id: speaker.id,
      name: 'tor-switch-2',
      peer_address: underlay.ip(2),
      peer_asn: 65002,
      password: 'the-right-password',
    });
    await waitFor(
      async () => (await tor2.rib()).has('10.0.2.0/24'),
      30_000,
      'the second ToR to learn the advertised prefix',
    );
    expect((await tor.rib()).has('172.20.0.0/24')).toBe(true);
    // FRR holds the first ToR's route; it must not pass it on.
    expect(await frr.vtysh('show bgp ipv4 unicast 172.20.0.0/24')).toContain(underlay.ip(1));
    expect((await tor2.rib()).has('172.20.0.0/24')).toBe(false);
  });

  it("is no transit for iBGP routes either: an iBGP ToR's prefix reaches no eBGP ToR", async () => {
    await rpc('AddPeer', {
      speaker_id: speaker.id,
      name: 'tor-switch-3',
      peer_address: underlay.ip(3),
      peer_asn: 65001,
    });
    await waitFor(
      async () => (await tor3.rib()).has('10.0.2.0/24'),
      30_000,
      'the iBGP ToR to learn the advertised prefix',
    );
    await tor3.announce('172.21.0.0/24');
    await waitFor(
      async () =>
        (await frr.vtysh('show bgp ipv4 unicast 172.21.0.0/24', false))?.includes(underlay.ip(3)) ??
        false,
      10_000,
      "the node to hold the iBGP ToR's route",
    );
    // Its AS path is empty, like the node's own routes; updates leave within a second.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await tor.rib()).has('172.21.0.0/24')).toBe(false);
    expect((await tor2.rib()).has('172.21.0.0/24')).toBe(false);
    // Nor does an eBGP ToR's route reach the iBGP one.
    expect((await tor3.rib()).has('172.20.0.0/24')).toBe(false);
    expect((await tor.rib()).has('10.0.2.0/24')).toBe(true);
  });

  it("deleting the speaker tears FRR's BGP configuration down", async () => {
    await cluster.api('DELETE', `/api/v1/bgp-speakers/${speaker.id}`);
    await waitFor(
      async () => !/router bgp|QNET-|password/.test((await frr.vtysh('show running-config'))!),
      10_000,
      "FRR's BGP configuration, route-maps and prefix-lists to go",
    );
    await waitFor(async () => (await tor.rib()).size === 1, 10_000, "only the ToR's own route");
    expect((await tor.sessions()).get(underlay.ip(0))).not.toBe('established');
  });
});
