#!/usr/bin/env node
// `npm run demo`: the whole product (as `npm start`) plus a small cluster to look at in the
// console: three hosts in network namespaces on one underlay, each run by a real node agent, a
// top-of-rack switch running gobgpd and a client; an overlay across the hosts with a guest on
// each, a load balancer over two web servers, a VPN gateway and a BGP speaker peering with the ToR.
// Needs root (namespaces). Ctrl-C removes everything it made.
// child_process for the build only: it runs before anything else is loaded.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);
if (process.getuid?.() !== 0) {
  console.error('npm run demo builds its hosts from network namespaces: run it as root.');
  process.exit(1);
}
if (spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' }).status !== 0)
  process.exit(1);

const { startApp, startStack, waitFor, waitUntilReady } = await import('@qnet/stack');
const { FrrInstance, GobgpTor, Netns, startNameServer, Underlay } = await import('@qnet/testing');

// Its own state and database, both gone afterwards: the demo never touches `npm start`'s.
mkdirSync(path.join(root, '.qnet'), { recursive: true });
const stateDir = mkdtempSync(path.join(root, '.qnet', 'demo-'));
const made = { namespaces: [], daemons: [], servers: [] };
let stack;
let stopping = false;
async function cleanUp(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nremoving the demo…');
  await stack?.stop();
  for (const s of made.servers) await s.stop().catch(() => undefined);
  for (const d of made.daemons) await d.stop().catch(() => undefined);
  for (const ns of made.namespaces) await ns.delete().catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
  console.log('removed.');
  process.exit(code);
}
process.on('SIGINT', () => void cleanUp(0));
process.on('SIGTERM', () => void cleanUp(0));

async function api(method, p, body) {
  const res = await fetch(`${stack.gatewayUrl}${p}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const rpc = (service, method, body) =>
  api('POST', `/limiquantix.network.v1.${service}/${method}`, body);

try {
  console.log('building the hosts: an underlay of namespaces (192.0.2.0/24)…');
  const underlay = await Underlay.create(5, '192.0.2');
  made.namespaces.push(underlay);
  const [h1, h2, h3, torNs] = underlay.hosts;
  const hostIds = ['host-1', 'host-2', 'host-3'];
  const frr = await FrrInstance.start(h3);
  made.daemons.push(frr);
  const tor = await GobgpTor.start(torNs, {
    asn: 65000,
    routerId: underlay.ip(3),
    neighbors: [{ address: underlay.ip(2), asn: 65001 }],
  });
  made.daemons.push(tor);

  stack = await startStack({
    root,
    stateDir,
    scratchDatabase: 'qnet_demo',
    gatewayPort: Number(process.env.GATEWAY_PORT ?? 8080),
    hostId: hostIds[0],
    agentMode: 'netns',
    env: { AGENT_NETNS: h1.name, LOG_LEVEL: 'warn' },
  });
  await waitUntilReady(stack, 120_000);
  // The other hosts join as a new host does: with a one-time join token.
  for (const [i, ns] of [h2, h3].entries()) {
    const hostId = hostIds[i + 1];
    const { token } = await api('POST', '/v1/join-tokens', { host_id: hostId, ttl_seconds: 600 });
    stack.apps.push(
      startApp(
        stack.deployment,
        'node-agent',
        { hostId, mode: 'netns', netns: ns.name, joinToken: token },
        // The agents run beside each other: each its own metrics port.
        {
          METRICS_PORT: String(9111 + i),
          ...(hostId === 'host-3' ? { FRR_PATHSPACE: frr.pathspace } : {}),
        },
      ),
    );
  }
  await waitFor(
    async () => (await api('GET', '/v1/hosts')).filter((h) => h.health === 'healthy').length === 3,
    60_000,
    'three healthy hosts',
  );

  console.log('an overlay across the hosts, a guest on each…');
  const overlay = await api('POST', '/v1/networks', {
    name: 'demo-overlay',
    description: 'the demo: one guest per host',
    network_type: 'overlay',
    mode: 'nat',
    cidr: '10.77.0.0/24',
    gateway: '10.77.0.1',
  });
  const attach = async (network, hostId, vmId) => {
    const guest = await Netns.create('qdemo');
    made.namespaces.push(guest);
    const nic = await api('POST', '/v1/nics', {
      network_id: network.id,
      host_id: hostId,
      vm_id: vmId,
      kind: 'veth',
      netns: guest.name,
    });
    made.servers.push(await startNameServer(guest, vmId, 80));
    return { nic, ns: guest };
  };
  const guests = [];
  for (const [i, hostId] of hostIds.entries())
    guests.push(await attach(overlay, hostId, `guest-${i + 1}`));

  console.log('a load balancer over two web servers, a VPN gateway, a BGP speaker…');
  // The nftables LB masquerades as its host's gateway address, which on an overlay is the same
  // on every host: it reaches members on its own host only. The web servers share host-1.
  const web = await api('POST', '/v1/networks', {
    name: 'web',
    description: 'two web servers behind the load balancer',
    bridge_name: 'qbrweb',
    host_id: 'host-1',
    mode: 'nat',
    cidr: '10.78.0.0/24',
    gateway: '10.78.0.1',
  });
  const servers = [await attach(web, 'host-1', 'web-1'), await attach(web, 'host-1', 'web-2')];
  const lb = await rpc('LoadBalancerService', 'CreateLoadBalancer', {
    name: 'web',
    network_id: web.id,
    algorithm: 'ROUND_ROBIN',
  });
  await rpc('LoadBalancerService', 'AddListener', { load_balancer_id: lb.id, port: 80 });
  for (const { nic } of servers)
    await rpc('LoadBalancerService', 'AddMember', {
      load_balancer_id: lb.id,
      address: nic.ip_address,
      port: 80,
    });
  await rpc('LoadBalancerService', 'SetHealthCheck', {
    load_balancer_id: lb.id,
    health_check: {
      protocol: 'TCP',
      interval_sec: 2,
      timeout_sec: 1,
      unhealthy_threshold: 2,
      healthy_threshold: 2,
    },
  });
  const office = await api('POST', '/v1/networks', {
    name: 'office-lan',
    bridge_name: 'qbroffice',
    host_id: 'host-2',
    mode: 'nat',
    cidr: '10.88.0.0/24',
    gateway: '10.88.0.1',
  });
  const vpn = await rpc('VpnService', 'CreateVpnService', {
    name: 'office',
    network_id: office.id,
    external_ip: underlay.ip(1),
    local_subnets: ['10.88.0.0/24', '10.77.0.0/24'],
  });
  await rpc('VpnService', 'AddConnection', { vpn_service_id: vpn.id, name: 'laptop' });
  const speaker = await rpc('BGPService', 'CreateBGPSpeaker', {
    node_id: 'host-3',
    local_asn: 65001,
    router_id: underlay.ip(2),
  });
  await rpc('BGPService', 'AddBGPPeer', {
    speaker_id: speaker.id,
    name: 'tor',
    peer_address: underlay.ip(3),
    peer_asn: 65000,
  });
  await rpc('BGPService', 'AdvertiseNetwork', {
    speaker_id: speaker.id,
    prefix: '10.77.0.0/24',
    communities: ['65001:100'],
  });

  console.log(`
QuantumNet demo is up: open the console at ${stack.gatewayUrl}/
  hosts     host-1, host-2, host-3 (namespaces ${h1.name}, ${h2.name}, ${h3.name}), underlay 192.0.2.0/24
  overlay   demo-overlay 10.77.0.0/24 (VNI ${overlay.vni}), guests ${guests.map((g) => g.nic.ip_address).join(', ')}
  LB        web ${lb.vip}:80 on host-1 over web-1 and web-2, which answer with their names:
            ip netns exec ${guests[0].ns.name} bash -c 'head -1 < /dev/tcp/${lb.vip}/80' (from guest-1)
  VPN       office on host-2, ${underlay.ip(1)}:${vpn.listen_port}, client "laptop"
  BGP       AS65001 on host-3 peering with the ToR (gobgpd, AS65000, ${underlay.ip(3)}), advertising 10.77.0.0/24
  client    a namespace on the underlay: ip netns exec ${underlay.hosts[4].name} <command>
Ctrl-C removes all of it.`);
} catch (err) {
  console.error(`the demo failed: ${err.message}`);
  await cleanUp(1);
}
