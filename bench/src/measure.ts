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
  const run = async (ms: number, record: boolean) => {
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
            if (record) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          } catch {
            errors++;
          }
        }
      }),
    );
    return { latencies, errors, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  };
  await run(warmupMs, false);
  const { latencies, errors, seconds } = await run(durationMs, true);
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    concurrency,
    requests: latencies.length,
    errors,
    seconds: round(seconds),
    rps: round(latencies.length / seconds),
    p50_ms: round(q(0.5), 3),
    p99_ms: round(q(0.99), 3),
  };
}

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The p-quantile of samples (p in 0..1), nearest-rank. */
export function quantile(xs: number[], p: number): number {
  return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
}
