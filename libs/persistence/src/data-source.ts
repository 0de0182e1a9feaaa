import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import pg from 'pg';

export interface DatabaseConfig {
  /** postgres://user[:password]@host:port/database */
  url: string;
  /** Each service keeps its tables in its own schema. */
  schema: string;
  poolSize?: number;
}

const SCHEMA_RE = /^[a-z][a-z0-9_]{0,62}$/;

export interface OpenOptions extends DatabaseConfig {
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
}

/**
 * Opens a service's data source: creates its schema if needed and runs its checked-in migrations
 * (each in its own transaction). Never `synchronize`.
 */
export async function openDataSource(opts: OpenOptions): Promise<DataSource> {
  if (!SCHEMA_RE.test(opts.schema)) throw new Error(`invalid schema name "${opts.schema}"`);
  return withMigrationLock(opts.url, opts.schema, () => migrate(opts));
}

/**
 * Two instances of a service starting together would both create its schema and run the same
 * migrations ("relation … already exists"): one at a time, under an advisory lock per schema.
 */
async function withMigrationLock<T>(url: string, schema: string, fn: () => Promise<T>): Promise<T> {
  const lock = new pg.Client({ connectionString: url, application_name: `qnet-${schema}-migrate` });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`qnet-migrate:${schema}`]);
    return await fn();
  } finally {
    await lock.end();
  }
}

async function migrate(opts: OpenOptions): Promise<DataSource> {
  await ensureSchema(opts.url, opts.schema);
  const ds = new DataSource({
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: `qnet-${opts.schema}`,
    // Every connection resolves unqualified names in the service's own schema (raw SQL and migrations too).
    extra: {
      max: opts.poolSize ?? 10,
      // Waiting for a pooled connection is queueing behind other requests (500 concurrent device
      // registrations serialize on one lock): callers bound their own wait (the gateway's
      // RPC_TIMEOUT_MS), so the pool gives up only on a database that does not answer at all.
      connectionTimeoutMillis: 30_000,
      options: `-c search_path=${opts.schema}`,
      onConnect: keepErrorsOnTheClient,
    },
  });
  await ds.initialize();
  try {
    // Servers that ignore the startup option (the embedded PGlite, whose connections share one
    // session) get it as a statement; on PostgreSQL this repeats what the option already set.
    await ds.query(`SET search_path TO "${opts.schema}"`);
    await ds.runMigrations({ transaction: 'each' });
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}

/**
 * The pool listens for errors only on the connections it holds idle. One a request holds between
 * two statements (a transaction's JavaScript work) has no listener of its own, so the server ending
 * it (a restart, pg_terminate_backend) would be an unhandled 'error' event and end the process.
 * With this one the client is marked unusable instead: its next statement fails as the database
 * being unavailable (a 503), and the pool drops it when it is released.
 */
function keepErrorsOnTheClient(client: pg.Client): void {
  client.on('error', () => undefined);
}

export async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

/** Waits until PostgreSQL accepts connections (bounded), for services that start with it. */
export async function waitForDatabase(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline)
        throw new Error(
          `PostgreSQL did not answer within ${timeoutMs} ms: ${(err as Error).message}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The service's pg pool, which TypeORM opened (with the schema's search_path). Queries go to it
 * directly: TypeORM's query runner costs a measurable share of a request's CPU (B1) and adds
 * nothing to raw SQL.
 */
export function poolOf(ds: DataSource): pg.Pool {
  return (ds.driver as unknown as { master: pg.Pool }).master;
}
