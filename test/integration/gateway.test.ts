import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson, NATS_USERS } from '@qnet/bus';
import { EVENTS_STREAM, type EventEnvelope } from '@qnet/contracts';
import { TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

const RPC = '/limiquantix.network.v1.NetworkRegistryService';

describe('gateway → bus → service round trips', () => {
  let cluster: TestCluster;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${cluster.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: ['gw-1'], env: { RPC_TIMEOUT_MS: '800' } });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: 'gw-1', mode: 'dry-run' });
    await waitFor(
      async () => (await cluster.db.query(`SELECT 1 FROM network_registry.hosts`)).length === 1,
      10_000,
      'host gw-1',
    );
  });
  afterAll(() => cluster.teardown());

  it('answers a Connect call with the service reply', async () => {
    const res = await post(`${RPC}/ListHosts`, {});
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      hosts: { id: string; health: string; mode: string }[];
      next_page_token: string;
    };
    expect(body.hosts).toEqual([
      expect.objectContaining({ id: 'gw-1', health: 'healthy', mode: 'dry-run' }),
    ]);
    expect(body.next_page_token).toBe('');
  });

  it('serves the same RPCs as REST, with typed query parameters', async () => {
    const list = await fetch(`${cluster.gatewayUrl}/v1/hosts?page_size=1&health=healthy`);
    expect(list.status).toBe(200);
    // REST lists of the registry answer a bare array, as seed 003's /v1/networks does.
    expect(await list.json()).toEqual([expect.objectContaining({ id: 'gw-1' })]);
    const one = await fetch(`${cluster.gatewayUrl}/v1/hosts/gw-1`);
    expect(await one.json()).toMatchObject({ id: 'gw-1' });
    expect((await fetch(`${cluster.gatewayUrl}/v1/hosts/nope`)).status).toBe(404);
  });

  it('rejects a bad body with 400 naming the field, and writes nothing', async () => {
    const res = await post(`${RPC}/UpdateHost`, {
      host_id: 'gw-1',
      labels: { 'bad key!': 'x' },
      description: 'line\nbreak',
      extra: 1,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; details: { field: string }[] };
    expect(body.code).toBe('invalid_argument');
    expect(body.details.map((d) => d.field).sort()).toEqual(['description', 'extra', 'labels']);
    const [row] = await cluster.db.query<{ description: string; labels: object }>(
      `SELECT description, labels FROM network_registry.hosts WHERE id = 'gw-1'`,
    );
    expect(row).toEqual({ description: '', labels: {} });
  });

  it('rejects malformed JSON and non-object bodies with 400, non-JSON content types with 415', async () => {
    expect((await post(`${RPC}/ListHosts`, '{bad')).status).toBe(400);
    expect((await post(`${RPC}/ListHosts`, '[1,2]')).status).toBe(400);
    const text = await fetch(`${cluster.gatewayUrl}${RPC}/ListHosts`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(text.status).toBe(415);
  });

  it('answers 404 for unknown services and methods without touching the bus', async () => {
    const svc = await post('/limiquantix.network.v1.NoSuchService/Get', {});
    expect(svc.status).toBe(404);
    expect(await svc.json()).toEqual({
      code: 'not_found',
      message: 'unknown service NoSuchService',
    });
    const method = await post(`${RPC}/Explode`, {});
    expect(method.status).toBe(404);
    expect(((await method.json()) as { message: string }).message).toBe(
      'NetworkRegistryService has no method Explode',
    );
  });

  it('answers 503 at once when a service is not running', async () => {
    const started = Date.now();
    const res = await post('/limiquantix.network.v1.LoadBalancerService/CreateLoadBalancer', {
      name: 'web-lb',
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('answers 504 within the timeout when a service does not reply', async () => {
    // A real lb-user subscriber that never answers: the request has a responder but no reply.
    const lb: NatsConnection = await cluster.connectAs('lb');
    const sub = lb.subscribe('qnet.rpc.lb.GetLoadBalancer');
    await lb.flush();
    const started = Date.now();
    const res = await post('/limiquantix.network.v1.LoadBalancerService/GetLoadBalancer', {
      id: 'lb-1',
    });
    const elapsed = Date.now() - started;
    sub.unsubscribe();
    expect(res.status).toBe(504);
    expect(((await res.json()) as { code: string }).code).toBe('deadline_exceeded');
    expect(elapsed).toBeGreaterThanOrEqual(750);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('carries the request id into the reply header, the service log and the event', async () => {
    const res = await post(
      `${RPC}/UpdateHost`,
      { host_id: 'gw-1', labels: { rack: 'r7' } },
      { 'x-request-id': 'req-gw-test-1' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-gw-test-1');
    expect(await res.json()).toMatchObject({ id: 'gw-1', labels: { rack: 'r7' } });

    const nc = await cluster.connectAs(NATS_USERS.observer);
    const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM.name, {
      filter_subjects: 'qnet.evt.registry.host.updated',
    });
    const msg = await consumer.next({ expires: 5_000 });
    const event = msg!.json<EventEnvelope<{ labels: Record<string, string> }>>();
    expect(event).toEqual({
      id: expect.any(String),
      type: 'registry.host.updated',
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      resource_id: 'gw-1',
      request_id: 'req-gw-test-1',
      data: expect.objectContaining({ labels: { rack: 'r7' } }),
    });
    const logs = await cluster.logs('gateway');
    expect(logs.some((l) => l.request_id === 'req-gw-test-1' && l.msg === 'http')).toBe(true);
  });

  it('keeps events in one JetStream stream created idempotently by every service', async () => {
    const nc = await cluster.connectAs('network-registry');
    const info = await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM.name);
    expect(info.config.subjects).toEqual(['qnet.evt.>']);
    expect(info.state.messages).toBeGreaterThanOrEqual(2);
    nc.publish('qnet.evt.registry.probe.test', encodeJson({}));
  });
});

describe('gateway authentication', () => {
  let cluster: TestCluster;
  const TOKENS = 'default:tok-default-0123456789,*:tok-admin-0123456789abc';

  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.startServices(['registry']);
    await cluster.startGateway({ GATEWAY_AUTH: 'required', QNET_API_TOKENS: TOKENS });
  });
  afterAll(() => cluster.teardown());

  const call = (token?: string, body: object = {}) =>
    fetch(`${cluster.gatewayUrl}/limiquantix.network.v1.LoadBalancerService/CreateLoadBalancer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });

  it('requires a known bearer token on API routes but not on health and metrics', async () => {
    expect((await call()).status).toBe(401);
    expect((await call('not-a-token')).status).toBe(401);
    expect((await fetch(`${cluster.gatewayUrl}/health`)).status).toBe(200);
    expect((await fetch(`${cluster.gatewayUrl}/metrics`)).status).toBe(200);
    const ok = await fetch(`${cluster.gatewayUrl}/v1/hosts`, {
      headers: { authorization: 'Bearer tok-default-0123456789' },
    });
    expect(ok.status).toBe(200);
  });

  it('keeps a project-scoped token inside its project', async () => {
    const res = await call('tok-default-0123456789', { project_id: 'other' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      code: 'permission_denied',
      details: [{ field: 'project_id' }],
    });
    // Its own project passes auth and reaches the bus (lb is not running here: 503).
    expect((await call('tok-default-0123456789', { project_id: 'default' })).status).toBe(503);
    expect((await call('tok-admin-0123456789abc', { project_id: 'other' })).status).toBe(503);
  });

  it('refuses to start without authentication on a non-loopback address', async () => {
    const proc = cluster.start('gateway', undefined, {
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_AUTH: 'off',
      GATEWAY_PORT: '0',
    });
    expect(await proc.exited).toBe(1);
    const fatal = (await cluster.logs('gateway')).find((l) => l.level === 60);
    expect(JSON.stringify(fatal)).toContain('authentication is required on a non-loopback address');
  });
});
