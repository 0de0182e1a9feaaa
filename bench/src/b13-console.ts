import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchBrowser, REPO_ROOT, TestCluster } from '@qnet/testing';
import { quantile, round } from './measure.js';

const NETWORKS = 1_000;
const LOADS = 5;

/**
 * B13: the console's first load on loopback — from navigation to the Networks table showing all
 * 1,000 networks (a fresh browser context each time: nothing cached) — and its bundle gzipped.
 * Targets: < 1 s and < 300 KB.
 */
export interface B13Result {
  networks: number;
  first_load_ms: number[];
  first_load_p50_ms: number;
  bundle_gzip_kb: number;
  meets_target: boolean;
  figures: Record<string, string | number>;
}

/** The console's JavaScript and CSS as the browser downloads them, gzipped. */
function bundleGzipKb(): number {
  const dir = path.join(REPO_ROOT, 'apps/console/dist/assets');
  const bytes = readdirSync(dir)
    .filter((f) => /\.(js|css)$/.test(f))
    .reduce((n, f) => n + gzipSync(readFileSync(path.join(dir, f))).length, 0);
  return round(bytes / 1024);
}

export async function runB13(): Promise<B13Result> {
  const cluster = await TestCluster.create({ env: { LOG_LEVEL: 'warn' } });
  const browser = await launchBrowser();
  try {
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    for (let i = 0; i < NETWORKS; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          cluster.api('POST', '/v1/networks', {
            name: `net-${String(i + k).padStart(4, '0')}`,
            bridge_name: `qbr${i + k}`,
            cidr: `10.${Math.floor((i + k) / 250)}.${(i + k) % 250}.0/24`,
          }),
        ),
      );
    const loads: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(`${cluster.gatewayUrl}/#/networks`);
      await page.getByText(`${NETWORKS} networks`).waitFor();
      await page.getByRole('row').filter({ hasText: 'net-0000' }).waitFor();
      loads.push(round(performance.now() - t0));
      await context.close();
    }
    const p50 = round(quantile(loads, 0.5));
    const kb = bundleGzipKb();
    const meets = p50 < 1_000 && kb < 300;
    return {
      networks: NETWORKS,
      first_load_ms: loads,
      first_load_p50_ms: p50,
      bundle_gzip_kb: kb,
      meets_target: meets,
      figures: {
        [`B13 first load to the Networks table with ${NETWORKS} networks, ${LOADS} fresh loads (ms)`]:
          loads.join(', '),
        'B13 first load p50 (target < 1 s)': `${p50} ms — ${p50 < 1_000 ? 'meets' : 'MISSES'}`,
        'B13 JavaScript + CSS gzipped (target < 300 KB)': `${kb} KB — ${kb < 300 ? 'meets' : 'MISSES'}`,
      },
    };
  } finally {
    await browser.close();
    await cluster.teardown();
  }
}
