import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import pg from 'pg';
import { QnetError } from '@qnet/contracts';
import { remainingMs } from '@qnet/runtime';
import type { Query } from './query.js';

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

/** Where statements run: one transaction (inTransaction) or each on its own (autocommit). */
export interface SqlTx {
  /** Runs a typed statement (queryBuilder) and returns its rows. */
  run<R>(query: Query<R>): Promise<R[]>;
}

/** Each statement on its own pooled connection; refused inside a transaction (pass its tx). */
export function autocommit(ds: DataSource): SqlTx {
  return {
    run: async (query) => {
      refuseNestedConnection();
      const client = await connectWithin(poolOf(ds));
      try {
        return await runOn(client, query);
      } finally {
        client.release();
      }
    },
  };
}

/** The answer to a request this service cannot do within its caller's deadline. */
function busy(why: string): QnetError {
  return new QnetError('unavailable', `busy: ${why}; nothing was changed, retry`);
}

/**
 * A pooled connection, waited for no longer than the current request's deadline: under more load
 * than the pool serves, a request its caller has given up on must not still queue for one.
 */
async function connectWithin(pool: pg.Pool): Promise<pg.PoolClient> {
  const left = remainingMs();
  if (left === undefined) return pool.connect();
  if (left <= 0) throw busy("the caller's deadline passed before the work started");
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined = undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(busy(`no database connection came free within ${left} ms`)),
      left,
    );
  });
  try {
    return await Promise.race([pending, expired]);
  } catch (err) {
    pending.then(
      (late) => late.release(),
      () => undefined,
    );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Set while a transaction holds a pooled connection: taking a second one could wait forever. */
const holding = new AsyncLocalStorage<true>();

function refuseNestedConnection(): void {
  if (holding.getStore())
    throw new Error(
      'a pooled connection was requested inside a transaction that holds one: pass its tx instead',
    );
}

/** The one place a statement's rows get their type: the one its builder inferred from the schema. */
async function runOn<R>(client: pg.Pool | pg.PoolClient, query: Query<R>): Promise<R[]> {
  const compiled = query.compile();
  return (await client.query(compiled.sql, [...compiled.parameters])).rows as R[];
}

/**
 * A parameterless statement run together with the COMMIT, in the same round trip: `quote` makes a
 * value a safe SQL literal.
 */
export type CommitWith = (quote: (value: string) => string) => string | undefined;

/** A statement the current request's first committed transaction must carry. */
export interface JoinedStatement {
  sql: CommitWith;
  /** Set once a transaction carrying it has committed. */
  committed: boolean;
}

const joined = new AsyncLocalStorage<JoinedStatement>();

/**
 * Runs `fn` so that the first of its transactions to commit also runs `statement` (an idempotency
 * key's row: stored if and only if the request's work is).
 */
export function joinFirstTransaction<T>(
  statement: JoinedStatement,
  fn: () => Promise<T>,
): Promise<T> {
  return joined.run(statement, fn);
}

/**
 * Runs `fn` in a transaction on one connection: committed if it resolves, rolled back if it throws
 * or if the current request's deadline has passed by then (503 busy: the caller learns nothing
 * was changed, instead of a timeout that hides a commit).
 * `commitWith` (called after `fn`) may give one last statement to send with the COMMIT.
 */
export async function inTransaction<T>(
  ds: DataSource,
  fn: (tx: SqlTx) => Promise<T>,
  commitWith?: CommitWith,
): Promise<T> {
  refuseNestedConnection();
  const client = await connectWithin(poolOf(ds));
  try {
    await client.query('BEGIN');
    const result = await holding.run(true, () => fn({ run: (query) => runOn(client, query) }));
    // Committing after the caller stopped waiting would make its timeout hide a write.
    if ((remainingMs() ?? 1) <= 0)
      throw busy("the work did not finish within the caller's deadline");
    const quote = (v: string) => client.escapeLiteral(v);
    const carried = joined.getStore();
    const extra = carried && !carried.committed ? carried.sql(quote) : undefined;
    const last = [extra, commitWith?.(quote), 'COMMIT'].filter(Boolean).join('; ');
    await client.query(last);
    if (extra) carried!.committed = true;
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
