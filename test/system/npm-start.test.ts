import { execa } from 'execa';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUS_SERVICES, signRequest } from '@qnet/contracts';
import { NpmStack, REPO_ROOT } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

/** The product started exactly as the README starts it, driven through the gateway. */
describe('npm start', () => {
  let stack: NpmStack;
  let base: string;

  const post = async <T>(p: string, body: object): Promise<T> => {
    const res = await fetch(`${base}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  /** The pid of one of this stack's apps (its QNET_STATE_DIR tells it from other tests' apps). */
  const appPid = async (app: string): Promise<number> => {
    const { stdout } = await execa('pgrep', ['-f', `apps/${app}/dist/main.js`], { reject: false });
    for (const pid of stdout.split('\n').filter(Boolean).map(Number)) {
      try {
        if (
          readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`QNET_STATE_DIR=${stack.stateDir}`)
        )
          return pid;
      } catch {
        // gone meanwhile
      }
    }
    throw new Error(`no ${app} process of this stack`);
  };

  beforeAll(async () => {
    stack = await NpmStack.start({ QNET_HOST_ID: 'system-1' });
    base = stack.base;
  });

  afterAll(() => stack?.stop());

  it('brings /ready to 200 within 60 s with every service healthy', async () => {
    const started = Date.now();
    await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, 60_000, '/ready', 250);
    const ready = (await (await fetch(`${base}/ready`)).json()) as {
      details: Record<string, { status: string }>;
    };
    for (const s of BUS_SERVICES) expect(ready.details[s.id]?.status).toBe('up');
    await waitFor(
      async () => stack.output.includes('QuantumNet is ready'),
      5_000,
      'the ready banner',
    );
    expect(stack.output).toMatch(/gateway \(REST \+ Connect\)\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(stack.output).toContain('dry-run mode');
    console.log(`/ready answered 200 after ${Date.now() - started} ms`);
  });

  it('lists the local agent as a healthy host through the gateway', async () => {
    await waitFor(
      async () => {
        const res = await fetch(`${base}/limiquantix.network.v1.NetworkRegistryService/ListHosts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        const body = (await res.json()) as { hosts: { id: string; health: string }[] };
        return body.hosts.some((h) => h.id === 'system-1' && h.health === 'healthy');
      },
      15_000,
      'host system-1',
    );
  });

  it('answers a bad body with 400 naming the field, and serves docs and metrics', async () => {
    const res = await fetch(`${base}/v1/hosts/system-1`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ labels: 'not-a-map' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'invalid_argument',
      details: [{ field: 'labels' }],
    });
    const docs = (await (await fetch(`${base}/docs-json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(docs.paths)).toContain(
      '/limiquantix.network.v1.LoadBalancerService/CreateLoadBalancer',
    );
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('qnet_http_requests_total');
  });

  it("runs seed 000's VPN requests: create, add a client, get its config", async () => {
    const net = await post<{ id: string }>('/v1/networks', {
      name: 'seed-lan',
      bridge_name: 'qbrseed',
      cidr: '10.0.1.0/24',
    });
    const vpn = await post<{ id: string; public_key: string }>(
      '/limiquantix.network.v1.VpnService/CreateVpnService',
      {
        name: 'dev-vpn',
        network_id: net.id,
        project_id: 'default',
        router_id: 'router-456',
        external_ip: '203.0.113.10',
        local_subnets: ['10.0.1.0/24', '10.0.2.0/24'],
      },
    );
    const conn = await post<{ id: string }>('/limiquantix.network.v1.VpnService/AddConnection', {
      vpn_service_id: vpn.id,
      name: 'johns-laptop',
      peer_address: '10.99.0.10/32',
      peer_public_key: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
    });
    const cfg = await post<{ config: string }>(
      '/limiquantix.network.v1.VpnService/GetClientConfig',
      { vpn_service_id: vpn.id, connection_id: conn.id },
    );
    expect(cfg.config).toContain(`PublicKey = ${vpn.public_key}`);
    expect(cfg.config).toContain('Endpoint = 203.0.113.10:51820');
  });

  it("runs seed 000's BGP requests: speaker, MD5 peer, two advertisements, peer list", async () => {
    const BGP = '/limiquantix.network.v1.BGPService';
    await post('/v1/networks', { name: 'seed-vips', bridge_name: 'qbrvip', cidr: '10.0.100.0/24' });
    const speaker = await post<{ id: string }>(`${BGP}/CreateBGPSpeaker`, {
      node_id: 'system-1',
      local_asn: 65001,
      router_id: '192.168.1.10',
      project_id: 'default',
    });
    await post(`${BGP}/AddBGPPeer`, {
      speaker_id: speaker.id,
      name: 'tor-switch-1',
      peer_address: '192.168.1.1',
      peer_asn: 65000,
      password: 'bgp-md5-secret',
    });
    await post(`${BGP}/AdvertiseNetwork`, {
      speaker_id: speaker.id,
      prefix: '10.0.1.0/24',
      next_hop: '192.168.1.10',
      communities: ['65001:100'],
      local_pref: 100,
    });
    await post(`${BGP}/AdvertiseNetwork`, {
      speaker_id: speaker.id,
      prefix: '10.0.100.10/32',
      next_hop: '192.168.1.10',
    });
    const peers = await post<{ peers: object[] }>(`${BGP}/ListBGPPeers`, {
      speaker_id: speaker.id,
    });
    expect(peers.peers).toEqual([
      expect.objectContaining({
        name: 'tor-switch-1',
        peer_address: '192.168.1.1',
        peer_asn: 65000,
        status: expect.objectContaining({ state: expect.any(String), uptime: expect.any(String) }),
      }),
    ]);
    expect(JSON.stringify(peers)).not.toContain('bgp-md5-secret');
  });

  it("runs seed 000's load balancer requests: LB, listener, two members, health check", async () => {
    const LB = '/limiquantix.network.v1.LoadBalancerService';
    const net = await post<{ id: string }>('/v1/networks', {
      name: 'seed-web',
      bridge_name: 'qbrweb',
      cidr: '10.0.0.0/24',
    });
    const lb = await post<{ id: string; vip: string; host_id: string }>(
      `${LB}/CreateLoadBalancer`,
      {
        name: 'web-lb',
        network_id: net.id,
        project_id: 'default',
        vip: '10.0.0.100',
        algorithm: 'ROUND_ROBIN',
        protocol: 'TCP',
      },
    );
    expect(lb).toMatchObject({ vip: '10.0.0.100', host_id: 'system-1' });
    await post(`${LB}/AddListener`, {
      load_balancer_id: lb.id,
      port: 80,
      protocol: 'TCP',
      name: 'http',
    });
    for (const address of ['10.0.1.10', '10.0.1.11'])
      await post(`${LB}/AddMember`, { load_balancer_id: lb.id, address, port: 80, weight: 1 });
    const withCheck = await post<{ members: object[]; listeners: object[] }>(
      `${LB}/SetHealthCheck`,
      {
        load_balancer_id: lb.id,
        health_check: {
          protocol: 'TCP',
          port: 80,
          interval_sec: 5,
          timeout_sec: 3,
          unhealthy_threshold: 3,
          healthy_threshold: 2,
        },
      },
    );
    expect(withCheck.listeners).toHaveLength(1);
    expect(withCheck.members).toHaveLength(2);
  });

  it("makes a bootstrap PSK (0600) that signs seed 004's POST /register, and says where it is", async () => {
    const file = path.join(stack.stateDir, 'device-bootstrap.psk');
    expect(stack.output).toContain(`bootstrap PSK in ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const psk = readFileSync(file, 'utf8').trim();
    const body = JSON.stringify({
      device_id: 'endpoint_0',
      type: 'endpoint',
      name: 'endpoint_0',
      addresses: ['2001:da8:205:20c0::c0a8:20b'],
    });
    const res = await fetch(`http://127.0.0.1:${stack.devicePort}/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signRequest(psk, { method: 'POST', path: '/register', body }),
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ device_id: 'endpoint_0' });
  });

  it("joins a second host to npm start's NATS with a join token, as the banner says", async () => {
    expect(stack.output).toContain('add a host');
    const natsUrl = /NATS +(nats:\/\/\S+)/.exec(stack.output)?.[1];
    expect(natsUrl).toBeDefined();
    const { token } = await post<{ token: string }>('/v1/join-tokens', { host_id: 'system-2' });
    const agent = execa('node', [path.join(REPO_ROOT, 'apps/node-agent/dist/main.js')], {
      env: {
        PATH: process.env.PATH,
        NATS_URL: natsUrl,
        QNET_HOST_ID: 'system-2',
        QNET_JOIN_TOKEN: token,
        QNET_JOIN_URL: base,
        AGENT_MODE: 'dry-run',
        AGENT_STATE_DIR: path.join(stack.stateDir, 'second-host'),
        METRICS_PORT: '0',
        HEARTBEAT_INTERVAL_MS: '500',
      },
      extendEnv: false,
      stdin: 'ignore',
      buffer: false,
      reject: false,
    });
    try {
      await waitFor(
        async () => {
          const res = await fetch(`${base}/v1/hosts/system-2`);
          return res.ok && ((await res.json()) as { health: string }).health === 'healthy';
        },
        30_000,
        'the second host registered and healthy',
      );
      expect(statSync(path.join(stack.stateDir, 'second-host', 'nats.creds')).mode & 0o777).toBe(
        0o600,
      );
    } finally {
      agent.kill('SIGTERM');
      await agent;
    }
  });

  it('restarts a crashed service, says so, and /ready recovers', async () => {
    const registry = await appPid('network-registry');
    const killed = Date.now();
    process.kill(registry, 'SIGKILL');
    await waitFor(
      async () => /network-registry exited with code null; restarting it in/.test(stack.output),
      5_000,
      'the launcher to report the restart',
    );
    await waitFor(
      async () =>
        (await fetch(`${base}/ready`)).status === 200 &&
        (await appPid('network-registry')) !== registry,
      30_000,
      '/ready after the restart',
      250,
    );
    console.log(`a killed registry was back and /ready 200 after ${Date.now() - killed} ms`);
  });

  it('stops everything cleanly on Ctrl-C', async () => {
    // A terminal's Ctrl-C signals the whole foreground process group: npm, the launcher and the apps.
    process.kill(-stack.proc.pid!, 'SIGINT');
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      stack.proc.once('exit', (c, s) => resolve([c, s])),
    );
    expect(code === 0 || signal === 'SIGINT').toBe(true);
    await waitFor(
      async () => stack.output.includes('stopped.'),
      5_000,
      'the launcher to report it stopped',
    );
    expect(stack.output).not.toMatch(/ERROR|FATAL|without waiting|took longer/);
    // Once, in order: the gateway stopped before the services it calls.
    expect(stack.output.match(/stopping QuantumNet/g)).toHaveLength(1);
    const logs = path.join(stack.stateDir, 'logs');
    const stoppedAt = (app: string) =>
      Date.parse(
        readFileSync(path.join(logs, `${app}.log`), 'utf8')
          .split('\n')
          .filter((l) => l.includes('shutting down'))
          .map((l) => (JSON.parse(l) as { time: string }).time)
          .pop() ?? 'never',
      );
    for (const s of BUS_SERVICES)
      expect(stoppedAt(s.app)).toBeGreaterThanOrEqual(stoppedAt('gateway'));
    const left = await stack.db.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'qnet-%'`,
      [stack.db.name],
    );
    expect(left).toHaveLength(0);
  });
});
