import { jetstreamManager } from '@nats-io/jetstream';
import { NATS_USERS } from '@qnet/bus';
import { BUS_SERVICES, EVENTS_STREAM, Subjects } from '@qnet/contracts';
import type { AppProcess } from '@qnet/stack';
import { freePort, waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

const CREATED = Subjects.event('registry', 'network', 'created');
const LOAD_MS = 12_000;

/**
 * The design on the distributed engine it scales out on: a 3-node NATS cluster (the events stream
 * replicated 3 ways) and two instances of every service. Under write load one NATS server and one
 * instance of every service are killed. Every create the callers were told succeeded is stored,
 * every stored one has its event in the stream exactly once, and no caller sees a 5xx other than
 * 503 "retry" or a timeout — each retried with its Idempotency-Key to a definite answer.
 */
describe('on a 3-node NATS cluster with two instances of every service', () => {
  let cluster: TestCluster;
  const instances = new Map<string, AppProcess[]>();

  beforeAll(async () => {
    cluster = await TestCluster.create({
      natsNodes: 3,
      env: { EVENTS_STREAM_REPLICAS: '3', LOG_LEVEL: 'warn' },
    });
    // The second instance as on another machine: its own ports for the seed 004 listeners.
    const own = {
      TUNNEL_HTTP_PORT: String(await freePort()),
      DEVICE_HTTP_PORT: String(await freePort()),
    };
    for (const s of BUS_SERVICES)
      instances.set(s.app, [cluster.start(s.app), cluster.start(s.app, undefined, own)]);
    await Promise.all(BUS_SERVICES.map((s) => cluster.waitForService(s.id, 60_000)));
    await cluster.startGateway({ RPC_TIMEOUT_MS: '2000' });
  }, 120_000);
  afterAll(() => cluster?.teardown(), 60_000);

  it('loses no acknowledged write and no event when a NATS server and an instance of each service die', async () => {
    const answers: Record<string, number> = {};
    const acknowledged = new Set<string>();
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `w${w}-${i}`;
        for (;;) {
          const res = await fetch(`${cluster.gatewayUrl}/v1/networks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': name },
            body: JSON.stringify({
              name,
              bridge_name: `brc${w}x${i}`,
              cidr: `10.${w * 16 + Math.floor(i / 256)}.${i % 256}.0/24`,
            }),
          }).catch(() => undefined);
          const status = res?.status ?? 0;
          answers[status] = (answers[status] ?? 0) + 1;
          if (status === 201) {
            acknowledged.add(name);
            break;
          }
          // Its instance died between the commit and recording the answer: the repeat is told
          // the create was committed, which is the truth to check below.
          const body = status === 409 ? await res!.text() : '';
          if (/"code":"aborted".*was committed/.test(body)) {
            acknowledged.add(name);
            break;
          }
          if (status > 0 && status < 500)
            throw new Error(`${name}: ${status} ${body || (await res!.text())}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await new Promise((r) => setTimeout(r, 3_000));
    const killedAt = Date.now();
    await cluster.natsNodes[0]!.stop();
    await new Promise((r) => setTimeout(r, 1_000));
    for (const [, [first]] of instances) first!.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, LOAD_MS - 4_000));
    stop = true;
    await load;
    console.log(
      `cluster under faults: ${acknowledged.size} creates acknowledged in ${LOAD_MS / 1000} s; answers ${JSON.stringify(answers)}; NATS node and one instance of each service killed ${Date.now() - killedAt} ms before the end`,
    );

    const stored = await cluster.db.query<{ name: string }>(
      `SELECT name FROM network_registry.networks WHERE name ~ '^w[0-9]+-[0-9]+$'`,
    );
    expect(stored.map((r) => r.name).sort()).toEqual([...acknowledged].sort());
    for (const code of Object.keys(answers).map(Number))
      expect([201, 409, 503, 504]).toContain(code);

    const jsm = await jetstreamManager(await cluster.connectAs(NATS_USERS.observer));
    const events = async () =>
      (await jsm.streams.info(EVENTS_STREAM.name, { subjects_filter: CREATED })).state.subjects?.[
        CREATED
      ] ?? 0;
    await waitFor(async () => (await events()) >= stored.length, 20_000, 'every event relayed');
    expect(await events()).toBe(stored.length);
    const info = await jsm.streams.info(EVENTS_STREAM.name);
    expect(info.config.num_replicas).toBe(3);
    // Every surviving instance (half of them were on the dead server) reconnected and answers.
    for (const [app, [first, second]] of instances) {
      expect({ app, killed: first!.child.signalCode }).toEqual({ app, killed: 'SIGKILL' });
      expect({ app, alive: second!.child.exitCode }).toEqual({ app, alive: null });
    }
    await Promise.all(BUS_SERVICES.map((s) => cluster.waitForService(s.id, 10_000)));
    expect((await cluster.http('GET', '/ready')).status).toBe(200);
  }, 90_000);
});
