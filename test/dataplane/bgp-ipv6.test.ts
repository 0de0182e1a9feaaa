import type { BgpPeerView, BgpSpeakerView, ListBgpPeersResponse } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { FrrInstance, GobgpTor, TestCluster, Underlay } from '@qnet/testing';

const BGP = '/limiquantix.network.v1.BGPService';
const NODE = 'bgp6-node';

/** An IPv6 session (TCP-MD5) carrying an IPv6 prefix, FRR on the node and gobgpd as the ToR. */
describe('BGP over IPv6: FRR on the node, gobgpd as the ToR', () => {
  let cluster: TestCluster;
  let underlay: Underlay;
  let frr: FrrInstance;
  let tor: GobgpTor;

  beforeAll(async () => {
    underlay = await Underlay.create(2, '192.168.12');
    const [node, torNs] = underlay.hosts;
    await node!.exec(['ip', '-6', 'addr', 'add', 'fd00:12::1/64', 'dev', 'eth0', 'nodad']);
    await torNs!.exec(['ip', '-6', 'addr', 'add', 'fd00:12::2/64', 'dev', 'eth0', 'nodad']);
    frr = await FrrInstance.start(node!);
    tor = await GobgpTor.start(torNs!, {
      asn: 65000,
      routerId: underlay.ip(1),
      neighbors: [{ address: 'fd00:12::1', asn: 65001, password: 'v6-md5-key', family: 'ipv6' }],
    });
    cluster = await TestCluster.create({
      hostIds: [NODE],
      env: {
        HEARTBEAT_INTERVAL_MS: '500',
        DRIVER_STATUS_INTERVAL_MS: '300',
        BGP_ALLOWED_PREFIXES: '2001:db8::/32',
      },
    });
    await cluster.startServices(['registry', 'bgp']);
    await cluster.startGateway();
    await frr.startAgent(cluster, NODE, { QNET_UNDERLAY_IP: underlay.ip(0) });
  });

  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([tor, frr].map((d) => d?.stop()));
    await underlay?.delete();
  });

  it('advertises an IPv6 prefix with its community over an IPv6 MD5 session', async () => {
    const rpc = <T>(method: string, body: object) =>
      cluster.api<T>('POST', `${BGP}/${method}`, body);
    const speaker = await rpc<BgpSpeakerView>('CreateSpeaker', {
      node_id: NODE,
      local_asn: 65001,
      router_id: underlay.ip(0),
    });
    await rpc<BgpPeerView>('AddPeer', {
      speaker_id: speaker.id,
      name: 'tor-v6',
      peer_address: 'fd00:12::2',
      peer_asn: 65000,
      password: 'v6-md5-key',
    });
    await rpc('AdvertiseNetwork', {
      speaker_id: speaker.id,
      prefix: '2001:db8:5::/48',
      communities: ['65001:7'],
      local_pref: 150,
    });
    await waitFor(
      async () => (await tor.rib('ipv6')).has('2001:db8:5::/48'),
      30_000,
      'the IPv6 prefix at the ToR',
    );
    expect((await tor.rib('ipv6')).get('2001:db8:5::/48')).toMatchObject({
      next_hop: 'fd00:12::1',
      communities: ['65001:7'],
      as_path: [65001],
    });
    await waitFor(
      async () => {
        const [peer] = (await rpc<ListBgpPeersResponse>('ListPeers', { speaker_id: speaker.id }))
          .peers;
        return peer?.status.state === 'ESTABLISHED' && peer.status.prefixes_sent === 1;
      },
      5_000,
      'ListPeers: ESTABLISHED, one prefix sent',
    );
  });
});
