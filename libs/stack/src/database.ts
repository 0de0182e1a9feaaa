import pg from 'pg';
import path from 'node:path';
import { startEmbeddedPostgres } from '@qnet/persistence';
import { freePort } from './ports.js';

export interface DatabaseHandle {
  /** The database every service shares (given or local), or the first embedded one. */
  url: string;
  kind: 'given' | 'local' | 'embedded';
  /** Embedded mode: one PGlite instance per service (PGlite runs all its connections in one session). */
  perService?: Record<string, string>;
  stop(): Promise<void>;
}

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEV_DATABASE = 'qnet';

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function checkDatabaseName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name ${name}`);
}

/** Creates a database if it does not exist (CREATE DATABASE has no IF NOT EXISTS). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  checkDatabaseName(name);
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount)
      await c.query(`CREATE DATABASE "${name}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      });
  } finally {
    await c.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database, closing whatever sessions still use it. */
async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  checkDatabaseName(name);
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/**
 * DATABASE_URL if given; else a local PostgreSQL if one answers; else embedded ones (one per
 * service, in the state directory). `scratch` names a throwaway local database instead of the
 * development one: made empty on start, dropped on stop (the demo's).
 */
export async function resolveDatabase(opts: {
  databaseUrl?: string;
  stateDir: string;
  services: string[];
  scratch?: string;
}): Promise<DatabaseHandle> {
  const none = async () => undefined;
  if (opts.databaseUrl) return { url: opts.databaseUrl, kind: 'given', stop: none };
  if (await answers(LOCAL_SERVER)) {
    if (!opts.scratch)
      return { url: await ensureDatabase(LOCAL_SERVER, DEV_DATABASE), kind: 'local', stop: none };
    const name = opts.scratch;
    await dropDatabase(LOCAL_SERVER, name);
    const url = await ensureDatabase(LOCAL_SERVER, name);
    return { url, kind: 'local', stop: () => dropDatabase(LOCAL_SERVER, name) };
  }
  // The first creates the template cluster the others copy; then they open in parallel.
  const first = await startEmbeddedPostgres(
    path.join(opts.stateDir, 'pgdata', opts.services[0]!),
    await freePort(),
  );
  const rest = await Promise.all(
    opts.services
      .slice(1)
      .map(
        async (s) =>
          [
            s,
            await startEmbeddedPostgres(path.join(opts.stateDir, 'pgdata', s), await freePort()),
          ] as const,
      ),
  );
  const instances = [[opts.services[0]!, first] as const, ...rest];
  return {
    url: instances[0]![1].url,
    kind: 'embedded',
    perService: Object.fromEntries(instances.map(([s, db]) => [s, db.url])),
    stop: async () => void (await Promise.all(instances.map(([, db]) => db.stop()))),
  };
}
