import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import type pg from 'pg';
import { QnetError } from '@qnet/contracts';
import { remainingMs } from '@qnet/runtime';
import { poolOf } from './data-source.js';
import { runPipeline, type Statement } from './pipeline.js';
import type { Query } from './query.js';

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
async function runOn<R>(client: pg.ClientBase, query: Query<R>): Promise<R[]> {
  const [result] = await runPipeline(client, [compile(query)]);
  return result!.rows as R[];
}

function compile(query: Query<unknown>): Statement {
  const { sql, parameters } = query.compile();
  return { text: sql, values: parameters, prepare: query.prepare };
}

const BEGIN: Statement = { text: 'BEGIN', values: [], prepare: true };
const COMMIT: Statement = { text: 'COMMIT', values: [], prepare: true };
const ROLLBACK: Statement = { text: 'ROLLBACK', values: [], prepare: true };

/** A last statement to run with the COMMIT, in the same round trip (none: undefined). */
export type CommitWith = () => Query<unknown> | undefined;

/** A statement the current request's first committed transaction must carry. */
export interface JoinedStatement {
  statement: () => Query<unknown>;
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
 * The BEGIN travels with the first statement and the COMMIT with the last: a transaction of one
 * statement and its outbox row is two round trips.
 */
export async function inTransaction<T>(
  ds: DataSource,
  fn: (tx: SqlTx) => Promise<T>,
  commitWith?: CommitWith,
): Promise<T> {
  refuseNestedConnection();
  const client = await connectWithin(poolOf(ds));
  let begun = false;
  const run = <R>(query: Query<R>): Promise<R[]> => {
    if (begun) return runOn(client, query);
    begun = true;
    return runFirstOn(client, query);
  };
  try {
    const result = await holding.run(true, () => fn({ run }));
    // Committing after the caller stopped waiting would make its timeout hide a write.
    if ((remainingMs() ?? 1) <= 0)
      throw busy("the work did not finish within the caller's deadline");
    const carried = joined.getStore();
    const extra = carried && !carried.committed ? carried.statement() : undefined;
    const last = [extra, commitWith?.()].filter((q) => q !== undefined).map(compile);
    if (begun) await runPipeline(client, [...last, COMMIT]);
    // Statements sent with one Sync are one transaction of their own.
    else if (last.length) await runPipeline(client, last);
    if (extra) carried!.committed = true;
    return result;
  } catch (err) {
    if (begun) await runPipeline(client, [ROLLBACK]).catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * One statement as a transaction of its own, sent with the current request's joined statement
 * when it carries one (one Sync: one implicit transaction, one round trip). Refused, like a
 * commit, once the caller's deadline has passed.
 */
export async function runAlone<R>(ds: DataSource, query: Query<R>): Promise<R[]> {
  refuseNestedConnection();
  const client = await connectWithin(poolOf(ds));
  try {
    if ((remainingMs() ?? 1) <= 0)
      throw busy("the caller's deadline passed before the work started");
    const carried = joined.getStore();
    const extra = carried && !carried.committed ? carried.statement() : undefined;
    const [result] = await runPipeline(client, [query, ...(extra ? [extra] : [])].map(compile));
    if (extra) carried!.committed = true;
    return result!.rows as R[];
  } finally {
    client.release();
  }
}

/** A transaction's first statement, sent with its BEGIN: one round trip. */
async function runFirstOn<R>(client: pg.PoolClient, query: Query<R>): Promise<R[]> {
  const [, result] = await runPipeline(client, [BEGIN, compile(query)]);
  return result!.rows as R[];
}
