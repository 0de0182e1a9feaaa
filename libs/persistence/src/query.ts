import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  type Compilable,
  type Expression,
  type RawBuilder,
  type SqlBool,
} from 'kysely';
import { callerScope } from './tenancy.js';

/**
 * Typed SQL: a service's repositories build statements with Kysely against the row types that
 * `npm run db:types` generates from its migrated schema, so a column or a result type that does
 * not match the schema fails the build. Kysely only builds and compiles statements; they run on
 * the service's own pg pool or transaction client (`SqlTx.run`), which keeps transactions, the
 * outbox's COMMIT round trip and the pool in one place (data-source.ts).
 */
export function queryBuilder<DB>(): Kysely<DB> {
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

/** A statement built by `queryBuilder`, with the row type it returns. */
export type Query<R> = Compilable<R> & { readonly prepare?: true };

/**
 * A statement PostgreSQL prepares once per connection and then runs with one plan for all its
 * values (the generic plan), skipping the planner on every later call. Only for statements whose
 * best plan does not depend on their values — one row by its key, a single-row INSERT — and on hot
 * paths: a generic plan for a statement whose values steer the plan (ranges, a key repeated as
 * several parameters, big arrays) can be far slower than the planner's choice for each call.
 */
export function prepared<R>(query: Query<R>): Query<R> {
  return { compile: () => query.compile(), prepare: true };
}

/**
 * The tenancy filter in typed form (tenancy.ts): rows whose `column` is the caller's project, or
 * every row for a caller with no scope.
 */
export function inCallerScope(column: `${string}project_id`): Expression<SqlBool> {
  const scope = callerScope();
  return scope === null ? sql<SqlBool>`true` : sql<SqlBool>`${sql.ref(column)} = ${scope}`;
}

/** An inet column's address without its prefix length (`host()`): what the API shows. */
export function hostText<T extends string | null = string>(column: string): RawBuilder<T> {
  return sql<T>`host(${sql.ref(column)})`;
}

/**
 * A timestamptz column as the API shows it (UTC, milliseconds: what `Date.toISOString()` gives),
 * for views built in SQL.
 */
export function isoTime(column: string): RawBuilder<string> {
  return sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** A column (macaddr, cidr, …) as text. */
export function asText<T extends string | null = string>(column: string): RawBuilder<T> {
  return sql<T>`text(${sql.ref(column)})`;
}

/** `column = anyOf(values)`: one array parameter, so an empty list is valid SQL (unlike `IN ()`). */
export function anyOf<T>(values: readonly T[]): RawBuilder<T> {
  return sql<T>`any(${values})`;
}
