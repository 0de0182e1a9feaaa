import {
  addSampleBgp,
  ApiCaller,
  apiOperations,
  createSampleProject,
  databaseFingerprint,
  deeplyNested,
  fieldPaths,
  hostileValuesFor,
  seededRandom,
  TestCluster,
  valueAt,
  withField,
  type Operation,
  type Refs,
} from '@qnet/testing';

const ADMIN = 'tok-fuzz-admin-0123456789';
const HOST = 'fuzz-1';
/** A device with an agent of its own, so pushing its config is acknowledged. */
const DEVICE = 'endpoint_f';
const SEED = Number(process.env.QNET_FUZZ_SEED ?? 20261202);
/** A request that takes longer than this hangs, as far as this tier is concerned. */
const HANG_MS = 10_000;

interface Sent {
  label: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The field the request broke: a 400 must name it. */
  field?: string;
  /** Statuses allowed besides any 4xx (a hostile value may happen to be valid: 2xx). */
  mayPass?: boolean;
  expectStatus?: number;
}

interface Tally {
  requests: number;
  byStatus: Record<number, number>;
  accepted: string[];
  failures: string[];
}

/**
 * The fuzz tier (issue 15): every RPC of the proto catalog and every REST route of the gateway
 * (from its OpenAPI document), and the seed listeners' routes, with one field at a time replaced
 * by a hostile value of its type, hostile bodies and hostile paths. No answer may be a 5xx or
 * take longer than HANG_MS; a 400 names the field it refuses; a refused request changes nothing.
 */
describe('fuzz: hostile input gets a 4xx naming the problem, never a 5xx', () => {
  let cluster: TestCluster;
  let ops: Operation[];
  let refs: Refs;
  const rand = seededRandom(SEED);

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: [HOST, DEVICE] });
    await cluster.startServices();
    await cluster.startGateway({ GATEWAY_AUTH: 'required', QNET_API_TOKENS: `*:${ADMIN}` });
    cluster.start('node-agent', { hostId: HOST, mode: 'dry-run' });
    cluster.start('node-agent', { hostId: DEVICE, mode: 'dry-run' });
    await cluster.waitForHosts([HOST, DEVICE]);
    ops = await apiOperations(cluster.gatewayUrl);
    const api = new ApiCaller(cluster.gatewayUrl, ADMIN);
    refs = await createSampleProject(api, 'proj-f', HOST, {
      cidr: '10.77.0',
      vpnPort: 51821,
      clientPool: '10.99.0.0/24',
    });
    await addSampleBgp(api, refs, { prefix: '10.77.0.0/24' });
    await api.make('POST', '/api/v1/devices', {
      device_id: DEVICE,
      type: 'endpoint',
      name: 'endpoint f',
    });
    Object.assign(refs, { device: DEVICE, endpoint: DEVICE });
    console.log(`fuzz seed ${SEED} (QNET_FUZZ_SEED replays it)`);
  }, 120_000);
  afterAll(() => cluster?.teardown());

  const send = async (req: Sent, tally: Tally): Promise<number> => {
    tally.requests++;
    let status: number;
    let text: string;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: { authorization: `Bearer ${ADMIN}`, ...req.headers },
        body: req.body,
        signal: AbortSignal.timeout(HANG_MS),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      tally.failures.push(`${req.label}: no answer (${(err as Error).name})`);
      return 0;
    }
    tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
    const brief = text.length > 300 ? `${text.slice(0, 300)}…` : text;
    if (req.expectStatus !== undefined && status !== req.expectStatus) {
      tally.failures.push(`${req.label}: ${status} (expected ${req.expectStatus}) ${brief}`);
    } else if (status >= 500) {
      tally.failures.push(`${req.label}: ${status} ${brief}`);
    } else if (status < 400) {
      if (!req.mayPass) tally.failures.push(`${req.label}: accepted with ${status} ${brief}`);
      else tally.accepted.push(`${req.label}: ${status}`);
    } else if (status === 400 && req.field && !text.includes(req.field)) {
      tally.failures.push(`${req.label}: 400 does not name ${req.field}: ${brief}`);
    }
    return status;
  };

  /** Sends a batch; when every answer was a refusal, the database must not have changed. */
  const batch = async (name: string, reqs: Sent[], tally: Tally) => {
    const before = await databaseFingerprint(cluster.db);
    let passed = false;
    for (let i = 0; i < reqs.length; i += 8) {
      const statuses = await Promise.all(reqs.slice(i, i + 8).map((r) => send(r, tally)));
      passed ||= statuses.some((s) => s > 0 && s < 400);
    }
    if (!passed) {
      const after = await databaseFingerprint(cluster.db);
      const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
      if (changed.length)
        tally.failures.push(`${name}: refused requests changed ${changed.join(', ')}`);
    }
  };

  const report = (what: string, tally: Tally) => {
    console.log(
      `${what}: ${tally.requests} requests, by status ${JSON.stringify(tally.byStatus)}; ` +
        `${tally.accepted.length} hostile values accepted as valid` +
        (tally.accepted.length ? `:\n  ${tally.accepted.join('\n  ')}` : ''),
    );
    expect(tally.failures).toEqual([]);
  };
  const newTally = (): Tally => ({ requests: 0, byStatus: {}, accepted: [], failures: [] });
  const json = { 'content-type': 'application/json' };

  it('refuses a hostile value in any field of any RPC or REST body, naming the field', async () => {
    const tally = newTally();
    for (const op of ops.filter((o) => o.body)) {
      const valid = op.body!(refs);
      const url = `${cluster.gatewayUrl}${op.path(refs)}`;
      const reqs: Sent[] = [
        {
          label: `${op.name} unknown field`,
          method: op.method,
          url,
          headers: json,
          body: JSON.stringify({ ...valid, no_such_field: 1 }),
          field: 'no_such_field',
        },
      ];
      for (const path of fieldPaths(valid)) {
        const field = path.join('.');
        for (const h of hostileValuesFor(valueAt(valid, path), rand)) {
          reqs.push({
            label: `${op.name} ${field}=${h.kind}`,
            method: op.method,
            url,
            headers: json,
            body: JSON.stringify(withField(valid, path, h.value)),
            field: path[path.length - 1],
            mayPass: true,
          });
        }
      }
      await batch(op.name, reqs, tally);
    }
    report('hostile fields', tally);
  }, 300_000);

  it('refuses hostile bodies: none, not JSON, not an object, nested 5,000 deep, 10 MB (413)', async () => {
    const tally = newTally();
    const bodies: { kind: string; headers?: Record<string, string>; body?: string }[] = [
      { kind: 'no body' },
      { kind: 'text', headers: { 'content-type': 'text/plain' }, body: 'hello' },
      { kind: 'malformed JSON', headers: json, body: '{"a":' },
      { kind: 'empty JSON', headers: json, body: '' },
      { kind: 'null', headers: json, body: 'null' },
      { kind: 'array', headers: json, body: '[]' },
      { kind: 'string', headers: json, body: '"x"' },
      { kind: 'number', headers: json, body: '7' },
      { kind: 'nested objects', headers: json, body: deeplyNested(5_000, 'object') },
      { kind: 'nested arrays', headers: json, body: deeplyNested(5_000, 'array') },
      {
        kind: 'form',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      },
    ];
    const big = JSON.stringify({ name: 'x'.repeat(10 * 1024 * 1024) });
    for (const op of ops.filter((o) => o.body)) {
      const url = `${cluster.gatewayUrl}${op.path(refs)}`;
      const reqs: Sent[] = bodies.map((b) => ({
        label: `${op.name} ${b.kind}`,
        method: op.method,
        url,
        headers: b.headers,
        body: b.body,
        // No body is `{}`: valid wherever every field is optional.
        mayPass: ['no body', 'empty JSON'].includes(b.kind),
      }));
      reqs.push({
        label: `${op.name} 10 MB`,
        method: op.method,
        url,
        headers: json,
        body: big,
        expectStatus: 413,
      });
      await batch(op.name, reqs, tally);
    }
    report('hostile bodies', tally);
  }, 300_000);

  it('refuses hostile ids in paths and hostile list parameters', async () => {
    const tally = newTally();
    const ids = [
      '%ZZ',
      '%00',
      '%',
      'a'.repeat(5_000),
      '..%2F..%2Fetc',
      '%E2%80%AE',
      '%F0%28%8C%28',
    ];
    for (const op of ops) {
      const template = op.path({ ...refs, ...placeholders });
      const params = Object.values(placeholders).filter((p) => template.includes(p));
      const reqs: Sent[] = [];
      for (const param of params) {
        for (const id of ids) {
          reqs.push({
            label: `${op.name} ${param}=${id.slice(0, 20)}`,
            method: op.method,
            url: `${cluster.gatewayUrl}${template.replace(param, id)}`.replace(
              new RegExp(Object.values(placeholders).join('|'), 'g'),
              (p) => realOf(p),
            ),
            headers: op.body ? json : undefined,
            body: op.body ? JSON.stringify(op.body(refs)) : undefined,
          });
        }
      }
      if (op.method === 'GET' && !params.length) {
        for (const q of ['page_size=-1', 'page_size=abc', 'page_size=1e308', 'page_size=99999']) {
          reqs.push({
            label: `${op.name} ?${q}`,
            method: 'GET',
            url: `${cluster.gatewayUrl}${template}?${q}`,
            field: 'page_size',
            mayPass: true,
          });
        }
        reqs.push({
          label: `${op.name} ?page_token=garbage`,
          method: 'GET',
          url: `${cluster.gatewayUrl}${template}?page_token=%ZZ%ZZ`,
          mayPass: true,
        });
      }
      if (reqs.length) await batch(op.name, reqs, tally);
    }
    report('hostile paths', tally);

    function realOf(placeholder: string): string {
      const key = Object.entries(placeholders).find(([, p]) => p === placeholder)![0];
      return encodeURIComponent(refs[key as keyof Refs]);
    }
  }, 300_000);

  it("refuses hostile input on the seed listeners' own routes", async () => {
    const tally = newTally();
    const tunnel = cluster.seedUrl('tunnel');
    const device = cluster.seedUrl('device');
    const paths = [
      '/decision/%ZZ',
      '/device/%ZZ',
      '/push_config/%ZZ',
      '/%ZZ',
      '/decision/%',
      '/device/..%2F',
    ];
    const reqs: Sent[] = [];
    for (const base of [tunnel, device]) {
      for (const p of paths) {
        for (const method of ['GET', 'POST']) {
          reqs.push({ label: `${base.slice(-5)} ${method} ${p}`, method, url: `${base}${p}` });
        }
      }
      for (const p of ['/metrics', '/register', '/config', '/status']) {
        for (const body of ['hello', deeplyNested(5_000, 'object'), 'null', '[]', '']) {
          reqs.push({
            label: `${base.slice(-5)} POST ${p} ${body.slice(0, 12)}`,
            method: 'POST',
            url: `${base}${p}`,
            headers: json,
            body,
          });
        }
        reqs.push({
          label: `${base.slice(-5)} POST ${p} 10 MB`,
          method: 'POST',
          url: `${base}${p}`,
          headers: json,
          body: JSON.stringify({ x: 'x'.repeat(10 * 1024 * 1024) }),
          expectStatus: 413,
        });
      }
    }
    const metrics = ops.find((o) => o.name === 'POST /api/v1/tunnel/metrics')!.body!(refs);
    for (const path of fieldPaths(metrics)) {
      for (const h of hostileValuesFor(valueAt(metrics, path), rand)) {
        reqs.push({
          label: `metrics ${path.join('.')}=${h.kind}`,
          method: 'POST',
          url: `${tunnel}/metrics`,
          headers: json,
          body: JSON.stringify(withField(metrics, path, h.value)),
          field: path[path.length - 1],
          mayPass: true,
        });
      }
    }
    await batch('seed listeners', reqs, tally);
    report('seed listeners', tally);
  }, 300_000);
});

/** Stand-ins for the ids a path names, so the path tests can find and replace one at a time. */
const placeholders: Partial<Record<keyof Refs, string>> = {
  network: '__network__',
  nic: '__nic__',
  host: '__host__',
  lb: '__lb__',
  listener: '__listener__',
  member: '__member__',
  vpn: '__vpn__',
  connection: '__connection__',
  speaker: '__speaker__',
  peer: '__peer__',
  advertisement: '__advertisement__',
  device: '__device__',
  endpoint: '__endpoint__',
};
