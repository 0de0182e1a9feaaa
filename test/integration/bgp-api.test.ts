import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest } from '@qnet/bus';
import {
  Subjects,
  type BgpAdvertisementView,
  type BgpPeerView,
  type BgpSpeakerDetailedStatus,
  type BgpSpeakerView,
  type EventEnvelope,
  type ListBgpPeersResponse,
  type ListBgpSpeakersResponse,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

const BGP = '/limiquantix.network.v1.BGPService';
const REST = '/api/v1/bgp-speakers';
const PASSWORD = 'bgp-md5-secret';

type ErrorBody = { code?: string; details?: { field: string }[] };

/** Nodes a test registers for itself (each needs its agent's NATS user, made at cluster start). */
const SPARE_NODES = [
  'no-frr',
  'spare-peer',
  'spare-input',
  'spare-conflict',
  'spare-race',
  'spare-race-free',
  'spare-list-1',
  'spare-list-2',
  'spare-events',
] as const;

/**
 * The BGP API against a real NATS and PostgreSQL, with dry-run agents as the nodes: both seeds'
 * request styles, validation that names the field and changes nothing, invariants held by the
 * database under concurrency, the route filter, and MD5 passwords that never come back.
 */
describe('bgp service API', () => {
  let cluster: TestCluster;
  let observer: NatsConnection;
  const events: EventEnvelope<Record<string, unknown>>[] = [];

  const call = <T = Record<string, unknown>>(method: string, body: object) =>
    cluster.http<T & ErrorBody>('POST', `${BGP}/${method}`, body);
  const count = async (table: string) =>
    Number((await cluster.db.query<{ n: string }>(`SELECT count(*) AS n FROM bgp.${table}`))[0]!.n);
  const expectError = (res: { status: number; body: ErrorBody }, status: number, field: string) =>
    expect({ status: res.status, fields: res.body.details?.map((d) => d.field) }).toEqual({
      status,
      fields: [field],
    });

  /**
   * A node of its own for a test (each test builds what it uses): registered through its agent's
   * NATS user as an FRR host, without an agent process (nothing here needs it to apply).
   */
  const node = async (id: (typeof SPARE_NODES)[number], capabilities = ['bridge', 'frr']) => {
    await busRequest(await cluster.connectAs(`agent-${id}`), Subjects.agentRegister(id), {
      host_id: id,
      hostname: id,
      underlay_ip: '192.0.2.9',
      capabilities,
      mode: 'dry-run',
      drivers: ['linux', 'frr'],
      agent_version: 'test',
    });
    return id;
  };
  /** A speaker of its own on a node of its own. */
  const newSpeaker = async (nodeId: (typeof SPARE_NODES)[number], project = 'default') => {
    const res = await call<BgpSpeakerView>('CreateBGPSpeaker', {
      node_id: await node(nodeId),
      local_asn: 65001,
      router_id: '192.168.1.10',
      project_id: project,
    });
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    cluster = await TestCluster.create({
      hostIds: ['node-1', 'node-2', 'node-3', ...SPARE_NODES],
      env: {
        HEARTBEAT_INTERVAL_MS: '300',
        DRIVER_STATUS_INTERVAL_MS: '200',
        BGP_ALLOWED_PREFIXES: '198.51.100.0/24',
      },
    });
    await cluster.startServices(['registry', 'bgp']);
    await cluster.startGateway();
    for (const hostId of ['node-1', 'node-2', 'node-3'])
      cluster.start('node-agent', { hostId, mode: 'dry-run' });
    // A host whose agent found no FRRouting.
    await node('no-frr', ['bridge', 'vxlan']);
    observer = await cluster.connectAs('observer');
    observer.subscribe('qnet.evt.bgp.>', {
      callback: (_e, m) => {
        events.push(m.json());
      },
    });
    await cluster.waitForHosts(['node-1', 'node-2', 'node-3', 'no-frr']);
    await cluster.api('POST', '/v1/networks', {
      name: 'overlay',
      bridge_name: 'qbrovl',
      cidr: '10.0.0.0/16',
    });
  });
  afterAll(() => cluster?.teardown());

  it("answers seed 000's CreateBGPSpeaker, and the speaker turns active once its node applied it", async () => {
    const res = await call<BgpSpeakerView>('CreateBGPSpeaker', {
      node_id: 'node-1',
      local_asn: 65001,
      router_id: '192.168.1.10',
      project_id: 'default',
    });
    expect(res.status).toBe(200);
    const speaker = res.body;
    expect(speaker).toMatchObject({
      name: 'speaker-node-1',
      node_id: 'node-1',
      local_asn: 65001,
      router_id: '192.168.1.10',
      project_id: 'default',
    });
    await waitFor(
      async () =>
        (await cluster.api<BgpSpeakerView>('POST', `${BGP}/GetSpeaker`, { id: speaker.id })).status
          .phase === 'active',
      5_000,
      'phase active',
    );
  });

  it("answers seed 000's AddBGPPeer and AdvertiseNetwork, and never returns the password", async () => {
    const speaker = await newSpeaker('spare-peer');
    const peer = await call<BgpPeerView>('AddBGPPeer', {
      speaker_id: speaker.id,
      name: 'tor-switch-1',
      peer_address: '192.168.1.1',
      peer_asn: 65000,
      password: PASSWORD,
    });
    expect(peer.status).toBe(200);
    expect(peer.body).toMatchObject({ has_password: true, status: { state: 'IDLE' } });
    const ad = await call<BgpAdvertisementView>('AdvertiseNetwork', {
      speaker_id: speaker.id,
      prefix: '10.0.1.0/24',
      next_hop: '192.168.1.10',
      communities: ['65001:100'],
      local_pref: 100,
    });
    expect(ad.status).toBe(200);
    expect(ad.body).toMatchObject({ prefix: '10.0.1.0/24', communities: ['65001:100'] });
    const list = await call<ListBgpPeersResponse>('ListBGPPeers', { speaker_id: speaker.id });
    expect(list.body.peers).toEqual([
      expect.objectContaining({ name: 'tor-switch-1', peer_address: '192.168.1.1' }),
    ]);
    const [row] = await cluster.db.query<{ password_sealed: string }>(
      `SELECT password_sealed FROM bgp.bgp_peers WHERE id = $1`,
      [peer.body.id],
    );
    expect(row!.password_sealed).not.toContain(PASSWORD);
    for (const body of [peer.body, list.body, ad.body])
      expect(JSON.stringify(body)).not.toContain(PASSWORD);
  });

  it("serves seed 001's REST documents, with their field names in errors", async () => {
    const created = await cluster.http<BgpSpeakerView & ErrorBody>('POST', REST, {
      name: 'node2-speaker',
      project_id: 'proj-123',
      spec: { local_asn: 65000, router_id: '10.0.0.1', node_id: 'node-2' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const peer = await cluster.http<BgpPeerView>('POST', `${REST}/${id}/peers`, {
      name: 'tor-switch-a',
      peer_ip: '10.0.0.254',
      remote_asn: 65001,
      md5_password: 'secretpass',
      hold_time: 90,
      keepalive_interval: 30,
    });
    expect(peer.status).toBe(201);
    expect(peer.body).toMatchObject({
      peer_address: '10.0.0.254',
      hold_time: 90,
      keepalive_interval: 30,
    });
    expectError(
      await cluster.http('POST', `${REST}/${id}/peers`, {
        name: 'tor-switch-b',
        peer_ip: '10.0.0.253',
        remote_asn: 65001,
        md5_password: 'has space',
      }),
      400,
      'md5_password',
    );
    expectError(
      await cluster.http('POST', REST, {
        name: 'x',
        spec: { local_asn: 0, router_id: '10.0.0.1', node_id: 'node-3' },
      }),
      400,
      'spec.local_asn',
    );
    // Project proj-123 has no networks: only the allow-list applies.
    expectError(
      await cluster.http('POST', `${REST}/${id}/advertisements`, { cidr: '10.100.0.0/24' }),
      412,
      'cidr',
    );
    const ad = await cluster.http<BgpAdvertisementView>('POST', `${REST}/${id}/advertisements`, {
      cidr: '198.51.100.0/25',
      next_hop: '10.0.0.1',
      local_preference: 100,
      communities: ['65000:100'],
    });
    expect(ad.status).toBe(201);
    await waitFor(
      async () =>
        (await cluster.api<BgpSpeakerDetailedStatus>('GET', `${REST}/${id}/status`)).status
          .phase === 'ACTIVE',
      5_000,
      'status ACTIVE',
    );
    const status = await cluster.api<BgpSpeakerDetailedStatus>('GET', `${REST}/${id}/status`);
    expect(status).toEqual({
      speaker_id: id,
      status: { phase: 'ACTIVE', active_peers: 0, advertised_routes: 0 },
      peers: [
        {
          id: peer.body.id,
          peer_ip: '10.0.0.254',
          remote_asn: 65001,
          state: 'IDLE',
          prefixes_received: 0,
          prefixes_advertised: 0,
          uptime_seconds: 0,
        },
      ],
      advertisements: [
        { id: ad.body.id, cidr: '198.51.100.0/25', next_hop: '10.0.0.1', active: false },
      ],
    });
    expect(
      (await cluster.http('DELETE', `${REST}/${id}/advertisements/${ad.body.id}`)).status,
    ).toBe(204);
    expect((await cluster.http('DELETE', `${REST}/${id}/peers/${peer.body.id}`)).status).toBe(204);
    expect((await cluster.http('DELETE', `${REST}/${id}`)).status).toBe(204);
    expect((await cluster.http('GET', `${REST}/${id}`)).status).toBe(404);
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const speaker = await newSpeaker('spare-input');
    const before = [
      await count('bgp_speakers'),
      await count('bgp_peers'),
      await count('bgp_advertisements'),
    ];
    const speakerReq = { node_id: 'node-3', local_asn: 65001, router_id: '10.0.0.3' };
    for (const [patch, field] of [
      [{ local_asn: 4294967296 }, 'local_asn'],
      [{ router_id: '2001:db8::1' }, 'router_id'],
      [{ node_id: 'node 3' }, 'node_id'],
      [{ description: 'a\nrouter bgp 1' }, 'description'],
    ] as const)
      expectError(await call('CreateSpeaker', { ...speakerReq, ...patch }), 400, field);
    const peerReq = {
      speaker_id: speaker.id,
      name: 'tor-2',
      peer_address: '192.168.1.2',
      peer_asn: 65000,
    };
    for (const [patch, field] of [
      [{ peer_address: '192.168.1.256' }, 'peer_address'],
      [{ peer_asn: 0 }, 'peer_asn'],
      [{ password: 'x\n neighbor 1.1.1.1 remote-as 1' }, 'password'],
      [{ password: 'x'.repeat(81) }, 'password'],
      [{ name: 'tor\nx' }, 'name'],
      [{ hold_time: 2 }, 'hold_time'],
      [{ hold_time: 90, keepalive_interval: 31 }, 'keepalive_interval'],
      [{ max_prefixes: 0 }, 'max_prefixes'],
    ] as const)
      expectError(await call('AddPeer', { ...peerReq, ...patch }), 400, field);
    const adReq = { speaker_id: speaker.id, prefix: '10.0.9.0/24' };
    for (const [patch, field] of [
      [{ prefix: '10.0.9.1/24' }, 'prefix'],
      [{ communities: ['70000:1'] }, 'communities'],
      [{ communities: '65001:1' }, 'communities'],
      [{ local_pref: -1 }, 'local_pref'],
      [{ next_hop: '2001:db8::1' }, 'next_hop'],
    ] as const)
      expectError(await call('AdvertiseNetwork', { ...adReq, ...patch }), 400, field);
    expect([
      await count('bgp_speakers'),
      await count('bgp_peers'),
      await count('bgp_advertisements'),
    ]).toEqual(before);
  });

  it('answers 404 / 409 / 412 naming the field, and writes nothing', async () => {
    const speaker = await newSpeaker('spare-conflict');
    const taken = { speaker_id: speaker.id, name: 'tor', peer_address: '192.168.1.1', peer_asn: 1 };
    expect((await call('AddPeer', taken)).status).toBe(200);
    expect(
      (await call('AdvertiseNetwork', { speaker_id: speaker.id, prefix: '10.0.1.0/24' })).status,
    ).toBe(200);
    const before = [
      await count('bgp_speakers'),
      await count('bgp_peers'),
      await count('bgp_advertisements'),
    ];
    const speakerReq = { local_asn: 65001, router_id: '10.0.0.3' };
    expectError(await call('CreateSpeaker', { ...speakerReq, node_id: 'node-9' }), 404, 'node_id');
    expectError(await call('CreateSpeaker', { ...speakerReq, node_id: 'no-frr' }), 412, 'node_id');
    expectError(
      await call('CreateSpeaker', { ...speakerReq, node_id: speaker.node_id }),
      409,
      'node_id',
    );
    expectError(
      await call('AddPeer', {
        speaker_id: speaker.id,
        name: 'other',
        peer_address: '192.168.1.1',
        peer_asn: 1,
      }),
      409,
      'peer_address',
    );
    expectError(
      await call('AdvertiseNetwork', { speaker_id: speaker.id, prefix: '10.0.1.0/24' }),
      409,
      'prefix',
    );
    expectError(
      await call('AdvertiseNetwork', { speaker_id: speaker.id, prefix: '10.1.0.0/16' }),
      412,
      'prefix',
    );
    const missing = await call('AddPeer', {
      speaker_id: '00000000-0000-4000-8000-000000000000',
      name: 'x',
      peer_address: '192.168.1.9',
      peer_asn: 1,
    });
    expect(missing.status).toBe(404);
    expect(
      (await call('WithdrawNetwork', { speaker_id: speaker.id, prefix: '10.0.77.0/24' })).status,
    ).toBe(404);
    expect([
      await count('bgp_speakers'),
      await count('bgp_peers'),
      await count('bgp_advertisements'),
    ]).toEqual(before);
  });

  it('lets exactly one of concurrent requests advertise a prefix or take a node', async () => {
    const speaker = await newSpeaker('spare-race');
    const free = await node('spare-race-free');
    const ads = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('AdvertiseNetwork', { speaker_id: speaker.id, prefix: '10.0.5.0/24' }),
      ),
    );
    expect(ads.map((r) => r.status).sort()).toEqual([200, ...Array<number>(9).fill(409)]);
    const speakers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call('CreateSpeaker', { node_id: free, local_asn: 65000 + i, router_id: '10.0.0.3' }),
      ),
    );
    expect(speakers.map((r) => r.status).sort()).toEqual([200, ...Array<number>(5).fill(409)]);
  });

  it('lists speakers with filters and pages, and withdraws by id or prefix', async () => {
    // A project of this test's own, so the pages hold exactly its two speakers (it has no networks:
    // the allow-list's prefixes are what it may advertise).
    const speaker = await newSpeaker('spare-list-1', 'proj-list');
    const other = await newSpeaker('spare-list-2', 'proj-list');
    const all = await call<ListBgpSpeakersResponse>('ListSpeakers', {
      project_id: 'proj-list',
      page_size: 1,
    });
    expect(all.body.speakers).toHaveLength(1);
    const next = await call<ListBgpSpeakersResponse>('ListSpeakers', {
      project_id: 'proj-list',
      page_size: 1,
      page_token: all.body.next_page_token,
    });
    expect(next.body.next_page_token).toBe('');
    expect([all.body.speakers[0]?.id, next.body.speakers[0]?.id].sort()).toEqual(
      [speaker.id, other.id].sort(),
    );
    const onNode = await call<ListBgpSpeakersResponse>('ListSpeakers', {
      node_id: speaker.node_id,
    });
    expect(onNode.body.speakers.map((s) => s.id)).toEqual([speaker.id]);
    for (const prefix of ['198.51.100.0/26', '198.51.100.64/26', '198.51.100.128/26'])
      expect((await call('AdvertiseNetwork', { speaker_id: speaker.id, prefix })).status).toBe(200);
    expect(
      (await call('WithdrawNetwork', { speaker_id: speaker.id, prefix: '198.51.100.64/26' }))
        .status,
    ).toBe(200);
    const byId = await call<{ advertisements: BgpAdvertisementView[] }>('ListAdvertisements', {
      speaker_id: speaker.id,
    });
    const sixth = byId.body.advertisements.find((a) => a.prefix === '198.51.100.128/26');
    expect(
      (await call('WithdrawNetwork', { speaker_id: speaker.id, advertisement_id: sixth?.id }))
        .status,
    ).toBe(200);
    expectError(await call('WithdrawNetwork', { speaker_id: speaker.id }), 400, 'advertisement_id');
    const ads = await call<{ advertisements: BgpAdvertisementView[] }>('ListAdvertisements', {
      speaker_id: speaker.id,
    });
    expect(ads.body.advertisements.map((a) => a.prefix)).toEqual(['198.51.100.0/26']);
  });

  it('emits qnet.evt.bgp.* for every change', async () => {
    const speaker = await newSpeaker('spare-events');
    const peer = await call<BgpPeerView>('AddPeer', {
      speaker_id: speaker.id,
      name: 'tor',
      peer_address: '192.168.1.1',
      peer_asn: 65000,
      password: PASSWORD,
    });
    expect(peer.status).toBe(200);
    const ad = { speaker_id: speaker.id, prefix: '10.0.7.0/24' };
    expect((await call('AdvertiseNetwork', ad)).status).toBe(200);
    expect((await call('WithdrawNetwork', ad)).status).toBe(200);
    expect(
      (await call('RemovePeer', { speaker_id: speaker.id, peer_id: peer.body.id })).status,
    ).toBe(200);
    expect((await call('DeleteSpeaker', { id: speaker.id })).status).toBe(200);
    const mine = () => events.filter((e) => JSON.stringify(e).includes(speaker.id));
    await waitFor(
      async () => mine().some((e) => e.type === 'bgp.speaker.deleted'),
      5_000,
      'events',
    );
    const types = new Set(mine().map((e) => e.type));
    for (const t of [
      'bgp.speaker.created',
      'bgp.speaker.deleted',
      'bgp.peer.added',
      'bgp.peer.removed',
      'bgp.advertisement.created',
      'bgp.advertisement.withdrawn',
    ])
      expect(types).toContain(t);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });
});
