import { errors, type NatsConnection } from '@nats-io/transport-node';
import {
  agentPermissions,
  gatewayPermissions,
  NATS_USERS,
  observerPermissions,
  servicePermissions,
} from '@qnet/bus';
import {
  BUS_SERVICES,
  type DesiredState,
  type NetworkView,
  type VpnConnectionView,
  type VpnServiceView,
  type WireguardSpec,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

const VPN_HOST = 'sec-1';
const OTHER_HOST = 'sec-2';
const MD5 = 'md5-sec-1-password';

/** Everything one NATS user can receive: a subscription to each subject it may read. */
interface Spy {
  user: string;
  seen: string[];
  denied: string[];
}

/**
 * What each component must never read: the bus carries generated private keys and PSKs in
 * replies, MD5 passwords, gateway keys and tunnel PSKs in agents' desired states. Each NATS user subscribes
 * to every subject its permissions allow (and tries `>` and `_INBOX.>`, which the server refuses)
 * while those secrets travel; a secret may show up only for the components it is meant for.
 */
describe('no secrets for onlookers on the bus', () => {
  let cluster: TestCluster;
  const spies: Spy[] = [];

  const spyAs = async (user: string, subjects: string[]): Promise<Spy> => {
    const nc: NatsConnection = await cluster.connectAs(user);
    const spy: Spy = { user, seen: [], denied: [] };
    void (async () => {
      for await (const s of nc.status())
        if (s.type === 'error' && s.error instanceof errors.PermissionViolationError)
          spy.denied.push(s.error.message);
    })();
    for (const subject of [...subjects, '>', '_INBOX.>'])
      nc.subscribe(subject, {
        // A refused subscription calls back once with the error and no message.
        callback: (e, m) => void (e || spy.seen.push(m.string())),
      });
    await nc.flush();
    spies.push(spy);
    return spy;
  };

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: [VPN_HOST, OTHER_HOST] });
    await cluster.startServices();
    await cluster.startGateway();
    await spyAs(NATS_USERS.gateway, gatewayPermissions().subscribe);
    await spyAs(NATS_USERS.observer, observerPermissions().subscribe);
    for (const s of BUS_SERVICES) await spyAs(s.app, servicePermissions(s.id).subscribe);
    for (const h of [VPN_HOST, OTHER_HOST])
      await spyAs(NATS_USERS.agent(h), agentPermissions(h).subscribe);
    // A real agent on the VPN host, resyncing every second: its pulls carry secrets too.
    cluster.start(
      'node-agent',
      { hostId: VPN_HOST, mode: 'dry-run' },
      { RESYNC_INTERVAL_MS: '1000' },
    );
    await cluster.waitForHosts([VPN_HOST]);
  }, 60_000);
  afterAll(() => cluster?.teardown());

  it('shows each secret only to the components it is meant for', async () => {
    const network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'lan',
      bridge_name: 'qbrsec',
      host_id: VPN_HOST,
      cidr: '10.0.1.0/24',
    });
    const vpn = await cluster.api<VpnServiceView>('POST', '/api/v1/vpn-services', {
      name: 'sec-vpn',
      network_id: network.id,
      external_ip: '203.0.113.10',
      local_subnets: ['10.0.1.0/24'],
    });
    const conn = await cluster.api<VpnConnectionView>(
      'POST',
      `/api/v1/vpn-services/${vpn.id}/connections`,
      { name: 'laptop' },
    );
    const { preshared_key: psk } = await cluster.api<{ preshared_key: string }>(
      'POST',
      `/api/v1/vpn-services/${vpn.id}/connections/${conn.id}/preshared-key`,
      {},
    );
    const speaker = await cluster.api<{ id: string }>('POST', '/api/v1/bgp-speakers', {
      name: 'sec-speaker',
      spec: { local_asn: 65001, router_id: '192.0.2.10', node_id: VPN_HOST },
    });
    await cluster.api('POST', `/api/v1/bgp-speakers/${speaker.id}/peers`, {
      name: 'tor',
      peer_ip: '192.0.2.1',
      remote_asn: 65000,
      md5_password: MD5,
    });
    // An endpoint with a key takes part in tunnels: its state, pushed to its host, holds its PSK.
    const device = await cluster.api<{ psk: string }>('POST', '/api/v1/devices', {
      device_id: OTHER_HOST,
      type: 'endpoint',
      name: 'endpoint',
      public_key: 'kZ3Ii3RzDDH5rpu6vhh7f3VVGLNU1ZaYM7xfIXTd3xc=',
    });

    // The gateway key exists only sealed in the database and in the host's desired state.
    const agent = spies.find((s) => s.user === NATS_USERS.agent(VPN_HOST))!;
    const gatewayKey = () =>
      agent.seen
        .map(
          (m) =>
            JSON.parse(m) as { data?: DesiredState<WireguardSpec> } & DesiredState<WireguardSpec>,
        )
        .map((m) => (m.data ?? m).spec?.interfaces?.[0]?.private_key)
        .find(Boolean);
    // Two resyncs after the last change: both pushes and pulls went by.
    await waitFor(
      async () => Boolean(gatewayKey()) && agent.seen.filter((m) => m.includes(MD5)).length >= 3,
      10_000,
      'the agent pulled its desired state',
    );

    const secrets: Record<string, { value: string; for: string[] }> = {
      'gateway private key': {
        value: gatewayKey()!,
        for: ['vpn', NATS_USERS.agent(VPN_HOST)],
      },
      'client private key': { value: conn.private_key!, for: ['vpn', NATS_USERS.gateway] },
      'preshared key': {
        value: psk,
        for: ['vpn', NATS_USERS.gateway, NATS_USERS.agent(VPN_HOST)],
      },
      'MD5 password': {
        value: MD5,
        for: ['bgp', NATS_USERS.gateway, NATS_USERS.agent(VPN_HOST)],
      },
      'device PSK': {
        value: device.psk,
        for: ['device-controller', NATS_USERS.gateway, NATS_USERS.agent(OTHER_HOST)],
      },
    };
    const saw = (spy: Spy) =>
      Object.entries(secrets)
        .filter(([, s]) => spy.seen.some((m) => m.includes(s.value)))
        .map(([name]) => name)
        .sort();
    for (const secret of Object.values(secrets)) expect(secret.value).toMatch(/\S{8,}/);
    const unintended = spies.flatMap((spy) =>
      saw(spy)
        .filter((name) => !secrets[name]!.for.includes(spy.user))
        .map((name) => `${spy.user} saw the ${name}`),
    );
    expect(unintended).toEqual([]);
    // The spies do see what they are meant to: the gateway relays replies, the agent gets its state.
    const spyOf = (user: string) => spies.find((s) => s.user === user)!;
    expect(saw(spyOf(NATS_USERS.gateway))).toEqual(
      ['client private key', 'device PSK', 'preshared key'].sort(),
    );
    expect(saw(agent)).toEqual(['MD5 password', 'gateway private key', 'preshared key'].sort());
    expect(saw(spyOf(NATS_USERS.agent(OTHER_HOST)))).toEqual(['device PSK']);
    expect(saw(spyOf(NATS_USERS.observer))).toEqual([]);
    // No user may subscribe to everything, nor to every reply inbox.
    for (const spy of spies) {
      const denied = spy.denied.join('\n');
      expect({ user: spy.user, all: /subscription to ">"/i.test(denied) }).toEqual({
        user: spy.user,
        all: true,
      });
      expect({ user: spy.user, inboxes: /subscription to "_INBOX.>"/i.test(denied) }).toEqual({
        user: spy.user,
        inboxes: true,
      });
    }
  });
});
