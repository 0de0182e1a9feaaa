import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { runB1, type B1Result } from './b1-gateway-write.js';
import { runB2, type ConvergenceResult } from './b2-convergence.js';
import { runB9 } from './b9-agent-idle.js';
import { runB10 } from './b10-guest-lease.js';
import { runB3 } from './b3-scale.js';
import { runB4 } from './b4-lb.js';
import { runB5 } from './b5-ovn.js';
import { runB6 } from './b6-vpn.js';
import { runB7 } from './b7-bgp.js';
import { runB8 } from './b8-tunnel.js';
import { runB11 } from './b11-tunnels.js';
import { runB13 } from './b13-console.js';

/** `npm run bench`: runs every benchmark, writes bench/results/*.json and prints the README table. */
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const results = new URL('../results/', import.meta.url);
mkdirSync(results, { recursive: true });

const machine = {
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  node: process.version,
  date: new Date().toISOString(),
};
/** BENCH_ONLY=b2,b3 runs a subset (each writes its own results file). */
const only = (process.env.BENCH_ONLY ?? 'b1,b2,b3,b4,b5,b6,b7,b8,b9,b10,b11,b13').split(',');
const save = (name: string, data: object) =>
  writeFileSync(
    new URL(`${name}.json`, results),
    JSON.stringify({ machine, ...data }, null, 2) + '\n',
  );
const lines: string[] = [
  `machine: ${machine.cpus} cores, ${machine.cpu}, node ${machine.node}; ${durationMs / 1000} s per point`,
];
let ok = true;

if (only.includes('b1')) {
  const b1: B1Result = await runB1(durationMs);
  save('b1', { duration_ms: durationMs, ...b1 });
  const rows = b1.floor.flatMap((f, k) => {
    const [p, v, old] = [b1.product[k]!, b1.verdict[k]!, b1.in_process_floor[k]!];
    return [
      `| B1 floor: node:http → NATS → 2nd process: UPDATE + JetStream publish | ${f.concurrency} | ${f.rps} | ${f.p50_ms} | ${f.p99_ms} | |`,
      `| B1 earlier floor: NATS req/reply + pg INSERT, one process | ${old.concurrency} | ${old.rps} | ${old.p50_ms} | ${old.p99_ms} | |`,
      `| B1 gateway → registry → PostgreSQL | ${p.concurrency} | ${p.rps} | ${p.p50_ms} | ${p.p99_ms} | ${v.throughput_ratio}× floor rps, ${v.p99_ratio}× floor p99 — ${v.meets_target ? 'meets' : 'MISSES'} target (earlier floor: ${v.in_process_floor.throughput_ratio}×, ${v.in_process_floor.p99_ratio}×) |`,
    ];
  });
  lines.push(
    '',
    '| benchmark | concurrency | req/s | p50 ms | p99 ms | vs floor (target ≥ 0.6× rps, ≤ 2× p99) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `CPU per request at concurrency 32 (ms, over the product’s rounds): ${Object.entries(
      b1.cpu_ms_per_request,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  ok &&= b1.verdict.every((v) => v.meets_target);
}

if (only.includes('b2')) {
  const b2 = await runB2(Number(process.env.BENCH_B2_ATTACHES ?? 50));
  save('b2', b2);
  const row = (name: string, r: ConvergenceResult) =>
    `| ${name} | ${r.hosts} | ${r.attaches} | ${r.p50_ms} | ${r.p99_ms} | ${r.target_p99_ms} | ${r.messages_per_change} | ${r.meets_target ? 'meets' : 'MISSES'} |`;
  lines.push(
    '',
    '| B2 NIC attach → every host applied | hosts | attaches | p50 ms | p99 ms | target p99 ms | agent applies / change | |',
    '|---|---|---|---|---|---|---|---|',
    row('3 namespace hosts, real agents', b2.real_3_hosts),
    row('200 dry-run agents', b2.dry_run_200_hosts),
    `| 3-host overlay among 200 agents | 3 | | | | | ${b2.small_network_among_200.messages_per_change} | grows with the network, not the fleet |`,
  );
  const agents = b2.real_3_hosts.agents;
  lines.push(
    '',
    `Real agents after the run: RSS ${agents.rss_mb.join(' / ')} MB, CPU ${agents.cpu_ms_per_change.join(' / ')} ms per attach`,
  );
  ok &&= b2.real_3_hosts.meets_target && b2.dry_run_200_hosts.meets_target;
}

if (only.includes('b3')) {
  const b3 = await runB3();
  save('b3', b3);
  lines.push(
    '',
    '| B3 at 100,000 NICs | value |',
    '|---|---|',
    ...Object.entries(b3.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
}

if (only.includes('b4')) {
  const b4 = await runB4();
  save('b4', b4);
  lines.push(
    '',
    '| B4 load balancer (nftables) | value |',
    '|---|---|',
    ...Object.entries(b4.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
  ok &&= b4.meets_target;
}

if (only.includes('b5')) {
  const b5 = await runB5();
  save('b5', b5);
  lines.push(
    '',
    '| B5 OVN northbound writes | value |',
    '|---|---|',
    ...Object.entries(b5.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
  ok &&= b5.meets_target;
}

if (only.includes('b6')) {
  const b6 = await runB6();
  save('b6', b6);
  lines.push(
    '',
    '| B6 VPN gateway (wireguard-go) | value |',
    '|---|---|',
    ...Object.entries(b6.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
  ok &&= b6.meets_target;
}

if (only.includes('b7')) {
  const b7 = await runB7();
  save('b7', b7);
  lines.push(
    '',
    '| B7 BGP (FRR → gobgpd ToR, TCP-MD5) | value |',
    '|---|---|',
    ...Object.entries(b7.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
  ok &&= b7.meets_target;
}

if (only.includes('b8')) {
  const b8 = await runB8(durationMs);
  save('b8', b8);
  lines.push(
    '',
    '| B8 tunnel balancer | value |',
    '|---|---|',
    ...Object.entries(b8.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
}

if (only.includes('b9')) {
  const b9 = await runB9();
  save('b9', b9);
  ok &&= b9.meets_target;
  lines.push(
    '',
    `B9 idle agent: ${b9.cpu_percent_of_core}% of a core over ${b9.window_s} s (target < ${b9.target_percent}%)`,
  );
}

if (only.includes('b10')) {
  const b10 = await runB10();
  save('b10', b10);
  ok &&= b10.meets_target && b10.one_more_meets_target;
  const [few, many] = b10.one_more_attach;
  lines.push(
    '',
    '| B10 guest DHCP | p50 ms | p99 ms | target | |',
    '|---|---|---|---|---|',
    `| floor: udhcpc against a configured dnsmasq | ${b10.floor_p50_ms} | ${b10.floor_p99_ms} | | |`,
    `| AttachNic → udhcpc bound (${b10.attaches} attaches) | ${b10.lease_p50_ms} | ${b10.lease_p99_ms} | p99 ≤ 2× floor + 100 = ${b10.target_p99_ms} | ${b10.meets_target ? 'meets' : 'MISSES'} |`,
    `| B10b one more attach at ${few!.at_nics} NICs | ${few!.p50_ms} | ${few!.p99_ms} | | |`,
    `| B10b one more attach at ${many!.at_nics} NICs | ${many!.p50_ms} | ${many!.p99_ms} | ≤ 2× (p50 ${b10.one_more_ratio}×) | ${b10.one_more_meets_target ? 'meets' : 'MISSES'} |`,
  );
}

if (only.includes('b11')) {
  const b11 = await runB11();
  save('b11', b11);
  ok &&= b11.meets_target && b11.b12_meets_target;
  lines.push(
    '',
    '| B11/B12 tunnels (seed 004 data plane) | value |',
    '|---|---|',
    ...Object.entries(b11.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
}

if (only.includes('b13')) {
  const b13 = await runB13();
  save('b13', b13);
  ok &&= b13.meets_target;
  lines.push(
    '',
    '| B13 console | value |',
    '|---|---|',
    ...Object.entries(b13.figures).map(([k, v]) => `| ${k} | ${v} |`),
  );
}

console.log(lines.join('\n'));
process.exit(ok ? 0 : 2);
