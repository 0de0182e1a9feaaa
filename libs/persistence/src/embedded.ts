import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Runs in a worker thread: one PGlite (PostgreSQL in WASM) behind its wire-protocol server. PGlite
 * runs every connection in one session, so each service gets an instance of its own.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { PGlite } = await import('@electric-sql/pglite');
  const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(workerData.dataDir, { extensions: { btree_gist } });
  if (workerData.initOnly) { await db.close(); parentPort.postMessage('ready'); return; }
  const server = new PGLiteSocketServer({ db, port: workerData.port, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  parentPort.on('message', async () => { await server.stop(); await db.close(); parentPort.postMessage('stopped'); });
  parentPort.postMessage('ready');
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

function runWorker(data: { dataDir: string; port?: number; initOnly?: boolean }): Promise<Worker> {
  // Resolve PGlite from this package, wherever the worker's eval code runs.
  const worker = new Worker(WORKER, { eval: true, workerData: data, env: process.env });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: unknown) =>
      m === 'ready'
        ? resolve(worker)
        : reject(new Error(`embedded PostgreSQL: ${(m as { error: string }).error}`)),
    );
    worker.once('error', reject);
  });
}

/**
 * Initialises a PGlite cluster once (initdb in WASM takes seconds) and copies it for each further
 * data directory, so first starts stay fast.
 */
function prepareDataDir(dataDir: string, template: string): Promise<void> | undefined {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return undefined;
  mkdirSync(path.dirname(dataDir), { recursive: true });
  return (async () => {
    if (!existsSync(path.join(template, 'PG_VERSION')))
      await (await runWorker({ dataDir: template, initOnly: true })).terminate();
    cpSync(template, dataDir, { recursive: true });
  })();
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
): Promise<EmbeddedPostgres> {
  await prepareDataDir(dataDir, path.join(path.dirname(dataDir), '.template'));
  const worker = await runWorker({ dataDir, port });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      const stopped = new Promise((r) => worker.once('message', r));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}
