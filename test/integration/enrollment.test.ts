import { connect, type NatsConnection } from '@nats-io/transport-node';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { credsUserName, natsOptions, newUserKey } from '@qnet/bus';
import type { CreateJoinTokenResponse, HostView, JoinTokenView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { ApiCaller, TestCluster } from '@qnet/testing';

const TOKENS = { admin: 'tok-admin-0123456789abc', tenant: 'tok-tenant-0123456789ab' };
const DEPLOYED = 'deployed-1';
const JOINER = 'joiner-1';

/**
 * Host enrollment (README, "Adding hosts"): an operator makes a one-time join token, a new host's
 * agent starts with nothing but the gateway's and NATS's addresses and that token, and joins —
 * NATS in operator mode, the agent's own key pair, a JWT for its own subjects. Revoking it cuts it
 * off: the server closes its connection, and refuses its credentials after NATS and the registry
 * restart.
 */
describe('host enrollment with join tokens', () => {
  let cluster: TestCluster;
  const admin = () => new ApiCaller(cluster.gatewayUrl, TOKENS.admin);
  const tenant = () => new ApiCaller(cluster.gatewayUrl, TOKENS.tenant);
  const anonymous = () => new ApiCaller(cluster.gatewayUrl);
  const stateDir = (host: string) => path.join(cluster.dir, `agent-${host}`);
  const credsOf = (host: string) => path.join(stateDir(host), 'nats.creds');
  const join = (body: object) => anonymous().http('POST', '/v1/hosts/join', body);
  const newToken = (body: object = {}) =>
    admin().make<CreateJoinTokenResponse>('POST', '/v1/join-tokens', body);
  /** A connection with a host's kept credentials, or the server's refusal. */
  const connectWith = (file: string): Promise<NatsConnection> =>
    connect({
      ...natsOptions({ url: cluster.nats.url, credsFile: file, name: 'probe' }),
      waitOnFirstConnect: false,
      maxReconnectAttempts: 0,
    });

  beforeAll(async () => {
    cluster = await TestCluster.create({
      hostIds: [DEPLOYED],
      env: { HEARTBEAT_INTERVAL_MS: '300', HOST_HEALTHY_WINDOW_MS: '2000' },
    });
    await cluster.startServices(['registry']);
    await cluster.startGateway({
      GATEWAY_AUTH: 'required',
      QNET_API_TOKENS: `tenant-a:${TOKENS.tenant},*:${TOKENS.admin}`,
    });
    cluster.start('node-agent', { hostId: DEPLOYED, mode: 'dry-run' });
    await cluster.waitForHosts([DEPLOYED]);
  }, 90_000);
  afterAll(() => cluster?.teardown());

  it('lets only the admin make join tokens, and shows a token only once', async () => {
    expect((await anonymous().http('POST', '/v1/join-tokens', {})).status).toBe(401);
    expect((await tenant().http('POST', '/v1/join-tokens', {})).status).toBe(403);
    expect((await tenant().http('GET', '/v1/join-tokens')).status).toBe(403);
    const bad = await admin().http('POST', '/v1/join-tokens', { ttl_seconds: 5, host_id: 'a b' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('ttl_seconds');
    expect(bad.text).toContain('host_id');

    const made = await newToken({ description: 'rack 7' });
    expect(made.token).toMatch(/^qnetjoin_/);
    const listed = await admin().make<JoinTokenView[]>('GET', '/v1/join-tokens');
    expect(listed.find((t) => t.id === made.id)).toMatchObject({
      description: 'rack 7',
      used_at: '',
    });
    expect(JSON.stringify(listed)).not.toContain(made.token);
    // Nothing at rest holds the token itself either.
    const rows = await cluster.db.query(`SELECT * FROM network_registry.join_tokens`);
    expect(JSON.stringify(rows)).not.toContain(made.token.slice(9));

    expect((await admin().http('DELETE', `/v1/join-tokens/${made.id}`)).status).toBe(204);
    const gone = await join({
      token: made.token,
      host_id: 'x',
      public_key: newUserKey().publicKey,
    });
    expect(gone.status).toBe(401);
  });

  it('refuses a hostile or wrong join with a clear error, and issues nothing', async () => {
    const key = newUserKey().publicKey;
    const brokenChecksum = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    const forOther = await newToken({ host_id: 'someone-else' });
    const cases: [object, number, string][] = [
      [{ token: 'x; rm -rf /', host_id: JOINER, public_key: key }, 400, 'token'],
      [{ token: forOther.token, host_id: 'a/b', public_key: key }, 400, 'host_id'],
      [{ token: forOther.token, host_id: JOINER, public_key: 'SUAB' }, 400, 'public_key'],
      // The right shape, a broken checksum.
      [{ token: forOther.token, host_id: JOINER, public_key: brokenChecksum }, 400, 'public_key'],
      [
        { token: `qnetjoin_${'A'.repeat(43)}`, host_id: JOINER, public_key: key },
        401,
        'unknown join token',
      ],
      [{ token: forOther.token, host_id: JOINER, public_key: key }, 400, 'someone-else'],
    ];
    for (const [body, status, mention] of cases) {
      const res = await join(body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.text).toContain(mention);
    }
    await cluster.db.query(
      `UPDATE network_registry.join_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [forOther.id],
    );
    const expired = await join({ token: forOther.token, host_id: 'someone-else', public_key: key });
    expect(expired.status).toBe(401);
    expect(expired.text).toContain('expired');
    expect(await cluster.db.query(`SELECT * FROM network_registry.host_credentials`)).toEqual([]);
  });

  it('spends a token once, however many agents race for it', async () => {
    const { token } = await newToken();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        join({ token, host_id: `racer-${i}`, public_key: newUserKey().publicKey }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(11);
    const rows = await cluster.db.query(`SELECT host_id FROM network_registry.host_credentials`);
    expect(rows).toHaveLength(1);
  });

  it('joins a new host with only a token and addresses, and revoking it cuts it off', async () => {
    const { token } = await newToken({ host_id: JOINER, ttl_seconds: 600 });
    const agent = cluster.start('node-agent', {
      hostId: JOINER,
      mode: 'dry-run',
      joinToken: token,
    });
    await cluster.waitForHosts([JOINER], 30_000);
    const host = await admin().make<HostView>('GET', `/v1/hosts/${JOINER}`);
    expect(host.health).toBe('healthy');

    // Its own credentials, kept 0600, for its own subjects only.
    const creds = credsOf(JOINER);
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    expect(credsUserName(readFileSync(creds, 'utf8'))).toBe(`agent-${JOINER}`);
    const probe = await connectWith(creds);
    const refused = new Promise<string>((resolve) => {
      void (async () => {
        for await (const s of probe.status())
          if (s.type === 'error') resolve(String((s as { error?: Error }).error?.message));
      })();
    });
    probe.publish(`qnet.agent.${DEPLOYED}.heartbeat`, '{}');
    expect(await refused).toMatch(/Permissions Violation/);
    await probe.close();
    // The token is spent.
    const again = await join({ token, host_id: JOINER, public_key: newUserKey().publicKey });
    expect(again.status).toBe(401);
    expect(again.text).toContain('already used');

    // Another tenant cannot revoke it; hosts that came with the deployment are not enrollment's.
    expect((await tenant().http('POST', `/v1/hosts/${JOINER}/revoke`)).status).toBe(403);
    const deployed = await admin().http('POST', `/v1/hosts/${DEPLOYED}/revoke`);
    expect(deployed.status).toBe(412);
    expect(deployed.text).toContain('NATS_CREDS');
    expect((await admin().http('POST', '/v1/hosts/nobody/revoke')).status).toBe(404);

    const started = Date.now();
    const revoked = await admin().make<{ revoked: number }>('POST', `/v1/hosts/${JOINER}/revoke`);
    expect(revoked.revoked).toBe(1);
    // The server closes its live connection; the agent says why and exits.
    expect(await agent.exited).toBe(1);
    const cutOffMs = Date.now() - started;
    expect(cutOffMs).toBeLessThan(10_000);
    const log = readFileSync(path.join(cluster.dir, 'logs', `node-agent-${JOINER}.log`), 'utf8');
    expect(log).toMatch(/revoked/);
    await expect(connectWith(creds)).rejects.toThrow(/Authorization Violation/);
    expect(
      (await admin().make<{ revoked: number }>('POST', `/v1/hosts/${JOINER}/revoke`)).revoked,
    ).toBe(0);

    // Still refused after NATS and the registry restart (the servers keep the account's JWT; the
    // registry sends it again on start).
    await cluster.nats.restart();
    await cluster.stop('network-registry');
    await cluster.startServices(['registry']);
    await expect(connectWith(creds)).rejects.toThrow(/Authorization Violation/);
    // The deployment's own host was never touched.
    await waitFor(
      async () =>
        (await admin().make<HostView>('GET', `/v1/hosts/${DEPLOYED}`)).health === 'healthy',
      15_000,
      `${DEPLOYED} healthy after the restarts`,
    );
    console.log(`enrollment: revoked host cut off in ${cutOffMs} ms`);
  }, 120_000);

  it('enrolls the same host again with a new token, and the old key stays refused', async () => {
    const old = credsOf(JOINER);
    const oldCreds = readFileSync(old, 'utf8');
    const { token } = await newToken({ host_id: JOINER });
    const key = newUserKey();
    const res = await join({ token, host_id: JOINER, public_key: key.publicKey });
    expect(res.status).toBe(200);
    const listed = await admin().make<JoinTokenView[]>('GET', '/v1/join-tokens');
    expect(listed.find((t) => t.used_by_host === JOINER && t.host_id === JOINER)).toBeDefined();
    expect(readFileSync(old, 'utf8')).toBe(oldCreds);
    await expect(connectWith(old)).rejects.toThrow(/Authorization Violation/);
  });
});
