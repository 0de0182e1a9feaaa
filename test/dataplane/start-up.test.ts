import { execa } from 'execa';
import { createServer } from 'node:net';
import { Netns, TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

/**
 * An app started wrongly says so at once, naming what to change; an agent started rightly reports
 * the host it really is: its namespace's address, not the root namespace's.
 */
describe('start-up mistakes', () => {
  let cluster: TestCluster;
  let ns: Netns;

  beforeAll(async () => {
    ns = await Netns.create('qas');
    await ns.exec(['ip', 'link', 'add', 'qas0', 'type', 'bridge']);
    await ns.exec(['ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'qas0']);
    await ns.exec(['ip', 'link', 'set', 'qas0', 'up']);
    cluster = await TestCluster.create({ hostIds: ['as-typo', 'as-ns', 'as-nonats'] });
    await cluster.startServices(['registry']);
  });
  afterAll(async () => {
    await cluster?.teardown();
    await ns?.delete();
  });

  const namespaces = async () =>
    (await execa('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]);

  it('refuses an AGENT_NETNS that does not exist, naming it, and creates nothing', async () => {
    const typo = `${ns.name}x`;
    const agent = cluster.start('node-agent', { hostId: 'as-typo', mode: 'netns', netns: typo });
    expect(await agent.exited).toBe(1);
    const fatal = (await cluster.logs('node-agent-as-typo')).find((l) => l.level === 60);
    expect(String(fatal?.err && (fatal.err as { message: string }).message)).toMatch(
      new RegExp(`AGENT_NETNS=${typo}: no such network namespace`),
    );
    expect(await namespaces()).not.toContain(typo);
    expect(
      await cluster.db.query(`SELECT 1 FROM network_registry.hosts WHERE id = 'as-typo'`),
    ).toHaveLength(0);
  });

  it("reports its namespace's own address as the underlay, not the root namespace's", async () => {
    cluster.start('node-agent', { hostId: 'as-ns', mode: 'netns', netns: ns.name });
    await cluster.waitForHosts(['as-ns']);
    const [host] = await cluster.db.query<{ underlay_ip: string }>(
      `SELECT host(underlay_ip) AS underlay_ip FROM network_registry.hosts WHERE id = 'as-ns'`,
    );
    expect(host!.underlay_ip).toBe('10.77.0.2');
  });

  it('says it cannot reach NATS, and why, instead of waiting silently', async () => {
    // What `ip netns exec <ns> … AGENT_MODE=host` sees: loopback there is the namespace's own.
    const agent = cluster.start(
      'node-agent',
      { hostId: 'as-nonats', mode: 'dry-run' },
      { NATS_URL: 'nats://127.0.0.1:9' },
    );
    await waitFor(
      async () =>
        (await cluster.logs('node-agent-as-nonats')).some((l) =>
          /cannot reach NATS at nats:\/\/127\.0\.0\.1:9 after \d+ s; still trying/.test(
            String(l.msg),
          ),
        ),
      15_000,
      'the agent to say it cannot reach NATS',
    );
    await agent.stop();
  });

  it('a seed listener whose port is taken stops its service, naming the variable to change', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as { port: number }).port;
    try {
      const balancer = cluster.start('tunnel-balancer', undefined, {
        TUNNEL_HTTP_PORT: String(port),
      });
      expect(await balancer.exited).toBe(1);
      const fatal = (await cluster.logs('tunnel-balancer')).find((l) => l.level === 60);
      expect(JSON.stringify(fatal)).toContain(
        `127.0.0.1:${port} is already in use (another QuantumNet on this machine?): set TUNNEL_HTTP_PORT to a free port`,
      );
    } finally {
      squatter.close();
    }
  });
});
