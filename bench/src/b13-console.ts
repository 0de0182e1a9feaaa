import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launchBrowser, REPO_ROOT, TestCluster } from '@qnet/testing';
import { quantile, round } from './measure.js';

const NETWORKS = 1_000;
/** The "stays fast with 10,000 rows": measured too, without a named target. */
const MANY = 10_000;
const LOADS = 5;

/**
 * B13: the console's first load on loopback — from navigation to the Networks table showing all
 * 1,000 networks (a fresh browser context each time: nothing cached), then with 10,000 — and its
 * bundle gzipped. Targets: < 1 s and < 300 KB.
 */
export interface B13Result {
  networks: number;
  first_load_ms: number[];
  first_load_p50_ms: number;
  first_load_10k_ms: number[];
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

/** Networks net-<from>..net-<to - 1>, ten at a time, each with its own bridge and /24. */
async function createNetworks(cluster: TestCluster, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 10)
    await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        cluster.api('POST', '/v1/networks', {
          name: `net-${String(i + k).padStart(5, '0')}`,
          bridge_name: `qbr${i + k}`,
          cidr: `10.${Math.floor((i + k) / 250)}.${(i + k) % 250}.0/24`,
        }),
      ),
    );
}

/** LOADS first loads of the Networks page, each in a fresh context, until `count` networks show. */
async function firstLoads(browser: Browser, base: string, count: number): Promise<number[]> {
  const loads: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(`${base}/#/networks`);
    await page.getByText(`${count} networks`).waitFor();
    await page
      .getByRole('row')
      .filter({ hasText: /net-\d{5}/ })
      .first()
      .waitFor();
    loads.push(round(performance.now() - t0));
    await context.close();
  }
  return loads;
}

export async function runB13(): Promise<B13Result> {
  const cluster = await TestCluster.create({ env: { LOG_LEVEL: 'warn' } });
  const browser = await launchBrowser();
  try {
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    await createNetworks(cluster, 0, NETWORKS);
    const loads = await firstLoads(browser, cluster.gatewayUrl, NETWORKS);
    await createNetworks(cluster, NETWORKS, MANY);
    const many = await firstLoads(browser, cluster.gatewayUrl, MANY);
    const p50 = round(quantile(loads, 0.5));
    const kb = bundleGzipKb();
    const meets = p50 < 1_000 && kb < 300;
    return {
      networks: NETWORKS,
      first_load_ms: loads,
      first_load_p50_ms: p50,
      first_load_10k_ms: many,
      bundle_gzip_kb: kb,
      meets_target: meets,
      figures: {
        [`B13 first load to the Networks table with ${NETWORKS} networks, ${LOADS} fresh loads (ms)`]:
          loads.join(', '),
        'B13 first load p50 (target < 1 s)': `${p50} ms — ${p50 < 1_000 ? 'meets' : 'MISSES'}`,
        [`B13 first load with ${MANY} networks (ms; p50)`]: `${many.join(', ')}; ${round(quantile(many, 0.5))}`,
        'B13 JavaScript + CSS gzipped (target < 300 KB)': `${kb} KB — ${kb < 300 ? 'meets' : 'MISSES'}`,
      },
    };
  } finally {
    await browser.close();
    await cluster.teardown();
  }
}
