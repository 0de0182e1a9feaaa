import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DriverStatus } from '@qnet/contracts';

/** Closed-loop load: `concurrency` workers each run `op` back to back until `durationMs` has passed. */
export interface LoadResult {
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

export async function closedLoop(
  op: () => Promise<void>,
  concurrency: number,
  durationMs: number,
  warmupMs = 1_000,
): Promise<LoadResult> {
  return (await interleavedLoops({ op }, concurrency, durationMs, 1, warmupMs)).op;
}

/** Latencies and errors of one closed-loop run. */
interface Run {
  latencies: number[];
  errors: number;
  seconds: number;
}

async function closedRun(op: () => Promise<void>, concurrency: number, ms: number): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + ms;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        try {
          await op();
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, errors, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * Closed loops of several systems measured in turns: `rounds` rounds, each giving every system
 * durationMs / rounds in order, so that a shared, noisy machine slows them alike (a floor measured
 * a minute before its product can meet another machine). Each system is warmed up first.
 */
export async function interleavedLoops<K extends string>(
  ops: Record<K, () => Promise<void>>,
  concurrency: number,
  durationMs: number,
  rounds: number,
  warmupMs = 1_000,
  /** Called around each measured round of a system (e.g. to count CPU time). */
  hooks: { before?(k: K): void; after?(k: K, requests: number): void } = {},
): Promise<Record<K, LoadResult>> {
  const names = Object.keys(ops) as K[];
  const runs = new Map<K, Run>(names.map((k) => [k, { latencies: [], errors: 0, seconds: 0 }]));
  for (const k of names) await closedRun(ops[k], concurrency, warmupMs);
  for (let r = 0; r < rounds; r++)
    for (const k of names) {
      hooks.before?.(k);
      const run = await closedRun(ops[k], concurrency, durationMs / rounds);
      hooks.after?.(k, run.latencies.length);
      const all = runs.get(k)!;
      all.latencies.push(...run.latencies);
      all.errors += run.errors;
      all.seconds += run.seconds;
    }
  return Object.fromEntries(
    names.map((k) => {
      const { latencies, errors, seconds } = runs.get(k)!;
      latencies.sort((a, b) => a - b);
      const q = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
      return [
        k,
        {
          concurrency,
          requests: latencies.length,
          errors,
          seconds: round(seconds),
          rps: round(latencies.length / seconds),
          p50_ms: round(q(0.5), 3),
          p99_ms: round(q(0.99), 3),
        },
      ];
    }),
  ) as Record<K, LoadResult>;
}

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The p-quantile of samples (p in 0..1), nearest-rank. */
export function quantile(xs: number[], p: number): number {
  return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
}

/** `samples` latencies of `sample()`, taken one after another: p50 and p99 in ms. */
export async function latencySeries(
  samples: number,
  sample: () => Promise<number>,
): Promise<{ p50_ms: number; p99_ms: number }> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) xs.push(await sample());
  return { p50_ms: round(quantile(xs, 0.5)), p99_ms: round(quantile(xs, 0.99)) };
}

/**
 * Times an operation until a host's agent reports, on `subject` (qnet.agent.<host>.status.<driver>),
 * an apply that changed something: the change is then live on the host.
 */
export async function applyTimer(
  nc: NatsConnection,
  subject: string,
): Promise<(op: () => Promise<unknown>) => Promise<number>> {
  let applied: () => void = () => {};
  nc.subscribe(subject, {
    callback: (_e, m) => {
      if (m.json<DriverStatus>().changes.length) applied();
    },
  });
  await nc.flush();
  return async (op) => {
    const t0 = performance.now();
    const done = new Promise<number>((resolve) => (applied = () => resolve(performance.now())));
    await op();
    return (await done) - t0;
  };
}

/** utime + stime of a process, in ms (clock ticks are 10 ms on Linux). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A process's resident memory, in kB. */
export function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}
