import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { runB1, type B1Result } from './b1-gateway-write.js';

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
const b1: B1Result = await runB1(durationMs);
writeFileSync(
  new URL('b1.json', results),
  JSON.stringify({ machine, duration_ms: durationMs, ...b1 }, null, 2) + '\n',
);

const rows = b1.floor.flatMap((f, k) => {
  const p = b1.product[k]!;
  const v = b1.verdict[k]!;
  return [
    `| B1 floor: NATS req/reply + pg INSERT | ${f.concurrency} | ${f.rps} | ${f.p50_ms} | ${f.p99_ms} | |`,
    `| B1 gateway → registry → PostgreSQL | ${p.concurrency} | ${p.rps} | ${p.p50_ms} | ${p.p99_ms} | ${v.throughput_ratio}× floor rps, ${v.p99_ratio}× floor p99 — ${v.meets_target ? 'meets' : 'MISSES'} target |`,
  ];
});
console.log(
  [
    `machine: ${machine.cpus} cores, ${machine.cpu}, node ${machine.node}; ${durationMs / 1000} s per point`,
    '',
    '| benchmark | concurrency | req/s | p50 ms | p99 ms | vs floor (target ≥ 0.5× rps, ≤ 3× p99) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `CPU per request at concurrency 32 (ms; includes warm-up): ${Object.entries(
      b1.cpu_ms_per_request,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ].join('\n'),
);
process.exit(b1.verdict.every((v) => v.meets_target) ? 0 : 2);
