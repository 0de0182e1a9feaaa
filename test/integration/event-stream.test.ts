import http from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson } from '@qnet/bus';
import { makeEvent, type EventEnvelope, type NetworkView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { ApiCaller, TestCluster } from '@qnet/testing';

const TOKENS = {
  a: 'tok-events-a-0123456789',
  b: 'tok-events-b-0123456789',
  admin: 'tok-events-admin-012345',
};
const HOST = 'events-1';

/** A browser's EventSource, reduced: one GET, frames parsed as they arrive, each timestamped. */
class EventStreamClient {
  readonly events: { type: string; envelope: EventEnvelope; at: number }[] = [];
  private constructor(
    private readonly req: http.ClientRequest,
    readonly status: number,
    readonly body: string,
  ) {}

  static open(base: string, token: string | undefined, query = ''): Promise<EventStreamClient> {
    return new Promise((resolve, reject) => {
      const req = http.get(
        `${base}/v1/events${query}`,
        { headers: token ? { authorization: `Bearer ${token}` } : {} },
        (res) => {
          let buffer = '';
          let client: EventStreamClient | undefined;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            if (res.statusCode !== 200) return;
            client ??= new EventStreamClient(req, 200, '');
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const field = (name: string) =>
                frame
                  .split('\n')
                  .find((l) => l.startsWith(`${name}: `))
                  ?.slice(name.length + 2);
              const data = field('data');
              if (data)
                client.events.push({
                  type: field('event')!,
                  envelope: JSON.parse(data) as EventEnvelope,
                  at: performance.now(),
                });
            }
            resolve(client);
          });
          res.on('end', () => resolve(new EventStreamClient(req, res.statusCode!, buffer)));
        },
      );
      req.on('error', reject);
    });
  }

  close(): void {
    this.req.destroy();
  }
}

describe('the event stream (GET /v1/events)', () => {
  let cluster: TestCluster;
  let registry: NatsConnection;
  const clients: EventStreamClient[] = [];
  const open = async (token: string | undefined, query = '') => {
    const c = await EventStreamClient.open(cluster.gatewayUrl, token, query);
    clients.push(c);
    return c;
  };
  const api = (token: string) => new ApiCaller(cluster.gatewayUrl, token);
  const openStreams = async () => {
    const metrics = await (await fetch(`${cluster.gatewayUrl}/metrics`)).text();
    return Number(/^qnet_gateway_event_streams(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
  };
  /** What the registry would publish (it may publish its own events only). */
  const publish = (resource: string, event: string, data: object, project?: string) => {
    const { subject, envelope } = makeEvent(
      'registry',
      resource,
      event,
      'x',
      data,
      undefined,
      project,
    );
    registry.publish(subject, encodeJson(envelope));
    return envelope;
  };

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: [HOST] });
    await cluster.startServices(['registry']);
    await cluster.startGateway({
      GATEWAY_AUTH: 'required',
      QNET_API_TOKENS: `proj-a:${TOKENS.a},proj-b:${TOKENS.b},*:${TOKENS.admin}`,
    });
    cluster.start('node-agent', { hostId: HOST, mode: 'dry-run' });
    await cluster.waitForHosts([HOST]);
    registry = await cluster.connectAs('network-registry');
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.teardown();
  });

  it('delivers a published event to a subscribed client within 100 ms', async () => {
    const client = await open(TOKENS.admin, '?type=registry.probe');
    const sent: { id: string; at: number }[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push({ id: publish('probe', 'sent', { i }).id, at: performance.now() });
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(async () => client.events.length === 20, 5_000, 'every event');
    const delays = sent.map((s) => client.events.find((e) => e.envelope.id === s.id)!.at - s.at);
    expect(Math.max(...delays)).toBeLessThan(100);
    expect(client.events[0]).toMatchObject({
      type: 'registry.probe.sent',
      envelope: { data: { i: 0 } },
    });
  });

  it("shows a project's token its own project's events and hosts', never another project's or the cluster's", async () => {
    const [a, b, admin] = [
      await open(TOKENS.a, '?type=registry'),
      await open(TOKENS.b, '?type=registry'),
      await open(TOKENS.admin, '?type=registry'),
    ];
    const netA = await api(TOKENS.a).make<NetworkView>('POST', '/v1/networks', {
      name: 'events-a',
      bridge_name: 'qbrea',
      host_id: HOST,
    });
    const netB = await api(TOKENS.b).make<NetworkView>('POST', '/v1/networks', {
      name: 'events-b',
      bridge_name: 'qbreb',
      host_id: HOST,
    });
    expect((await api(TOKENS.b).http('DELETE', `/v1/networks/${netB.id}`)).status).toBe(204);
    const host = publish('host', 'updated', { id: HOST });
    const token = publish('join_token', 'created', { id: 'j1' });
    const last = publish('probe', 'last', {}, 'proj-b');
    for (const c of [admin, b])
      await waitFor(async () => c.events.some((e) => e.envelope.id === last.id), 5_000, 'all');
    await waitFor(async () => a.events.some((e) => e.envelope.id === host.id), 5_000, 'host');
    const seen = (c: EventStreamClient) =>
      c.events
        .filter(
          (e) => e.type !== 'registry.host.heartbeat' && e.type !== 'registry.host.health_changed',
        )
        .map((e) => `${e.type} ${e.envelope.resource_id}`);
    expect(seen(a)).toEqual([`registry.network.created ${netA.id}`, 'registry.host.updated x']);
    expect(seen(b)).toEqual([
      `registry.network.created ${netB.id}`,
      `registry.network.deleted ${netB.id}`,
      'registry.host.updated x',
      'registry.probe.last x',
    ]);
    expect(seen(admin)).toEqual([
      `registry.network.created ${netA.id}`,
      `registry.network.created ${netB.id}`,
      `registry.network.deleted ${netB.id}`,
      'registry.host.updated x',
      'registry.join_token.created x',
      'registry.probe.last x',
    ]);
    expect(admin.events.find((e) => e.envelope.id === token.id)).toBeDefined();
    expect(a.events.find((e) => e.envelope.resource_id === netA.id)?.envelope.project_id).toBe(
      'proj-a',
    );
  });

  it('refuses an unauthenticated caller and a bad filter, naming the field', async () => {
    const anonymous = await open(undefined);
    expect(anonymous.status).toBe(401);
    const bad = await open(TOKENS.a, `?type=${encodeURIComponent('registry.>')}`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ details: [{ field: 'type' }] });
  });

  it('a client that goes away leaves no subscription behind', async () => {
    for (const c of clients.splice(0)) c.close();
    await waitFor(async () => (await openStreams()) === 0, 5_000, 'no stream left');
    const opened = await Promise.all(Array.from({ length: 5 }, () => open(TOKENS.b)));
    expect(await openStreams()).toBe(5);
    for (const c of opened) c.close();
    await waitFor(async () => (await openStreams()) === 0, 5_000, 'every stream closed');
  });
});
