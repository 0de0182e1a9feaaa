#!/usr/bin/env node
// Where a NIC attach's time goes, in B2's setup (three namespace hosts with real agents, one
// overlay): for each of N attaches made one after another, when the API call answered, when the
// NIC's own host reported applying it and when the last other host did, all from the call's start.
// `npm run build && node scripts/attach-timeline.mjs [attaches] [pause ms between attaches]`.
// Also prints one GET of the network by REST, by Connect and straight over NATS (no gateway).
import { busRequest } from '@qnet/bus';
import { appliedAt, collectReports, realOverlay } from '../bench/dist/b2-convergence.js';

const [attaches = 50, pauseMs = 0] = process.argv.slice(2).map(Number);

const { cluster, ids, network, close } = await realOverlay('tl', '172.31.2');
try {
  const nc = await cluster.connectAs('gateway');
  const scoped = { project: network.project_id };

  const reads = {
    'GET /v1/networks/{id} (REST)': () => cluster.api('GET', `/v1/networks/${network.id}`),
    'POST …/GetNetwork (Connect)': () =>
      cluster.api('POST', '/limiquantix.network.v1.NetworkRegistryService/GetNetwork', {
        id: network.id,
      }),
    'GetNetwork over NATS (no gateway)': () =>
      busRequest(nc, 'qnet.rpc.registry.GetNetwork', { id: network.id }, scoped),
  };
  for (const [name, read] of Object.entries(reads)) {
    const ms = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await read();
      ms.push(performance.now() - t);
    }
    console.log(`${name}: ${summary(ms)}`);
  }

  const observer = await cluster.connectAs('network-registry'); // the user agents report to
  const { reports, stop } = await collectReports(observer);
  const rows = [];
  for (let i = 0; i < attaches; i++) {
    const own = ids[i % ids.length];
    const first = reports.length;
    const t0 = performance.now();
    const nic = await cluster.api('POST', '/v1/nics', {
      network_id: network.id,
      host_id: own,
      vm_id: `tl-${i}`,
      kind: 'tap',
    });
    const answered = performance.now() - t0;
    let seen = appliedAt(reports, first, nic);
    while (seen.size < ids.length) {
      await new Promise((r) => setTimeout(r, 1));
      seen = appliedAt(reports, first, nic);
    }
    for (const [host, at] of seen) seen.set(host, at - t0);
    rows.push({
      answered,
      own: seen.get(own),
      others: Math.max(...ids.filter((h) => h !== own).map((h) => seen.get(h))),
      all: Math.max(...seen.values()),
    });
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  }
  console.log(`${attaches} attaches${pauseMs ? `, ${pauseMs} ms apart` : ', back to back'}:`);
  for (const [k, label] of [
    ['answered', 'POST /v1/nics answered'],
    ['own', "the NIC's own host reported"],
    ['others', 'the last other host reported'],
    ['all', 'every host reported (B2)'],
  ])
    console.log(`  ${label}: ${summary(rows.map((r) => r[k]))}`);
  stop();
  await nc.close();
  await observer.close();
} finally {
  await close();
}

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  return `p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${s[s.length - 1].toFixed(1)} ms`;
}
