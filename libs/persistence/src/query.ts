import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  type Compilable,
  type Expression,
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
export type Query<R> = Compilable<R>;

/**
 * The tenancy filter in typed form (tenancy.ts): rows whose `column` is the caller's project, or
 * every row for a caller with no scope.
 */
export function inCallerScope(column: `${string}project_id`): Expression<SqlBool> {
  const scope = callerScope();
  return scope === null ? sql<SqlBool>`true` : sql<SqlBool>`${sql.ref(column)} = ${scope}`;
}
