import type { DriverStatusReport } from '@qnet/contracts';
import { queryBuilder, type SqlTx } from '@qnet/persistence';
import { sql } from 'kysely';
import type { DB } from './db.js';

const db = queryBuilder<DB>();

export interface HostDriver {
  host_id: string;
  driver: string;
}

export interface Generation extends HostDriver {
  generation: number;
}

/** The agent_drivers table: per host and driver, its desired generation and what was applied. */
export const agentDriversRepository = {
  /** Per host and driver: how many generations the agent's applied state is behind. */
  async lags(tx: SqlTx): Promise<(HostDriver & { lag: number })[]> {
    const rows = await tx.run(
      db
        .selectFrom('agent_drivers')
        .select(['host_id', 'driver', sql<string>`generation - greatest(applied, 0)`.as('lag')]),
    );
    return rows.map((r) => ({ host_id: r.host_id, driver: r.driver, lag: Number(r.lag) }));
  },

  /**
   * The next generation of each (host, driver), its row locked until the transaction ends. Rows
   * are locked in key order (VALUES rows are inserted, or conflict and are updated, in order), so
   * transactions touching overlapping hosts cannot deadlock.
   */
  async next(tx: SqlTx, keys: readonly HostDriver[]): Promise<Generation[]> {
    if (keys.length === 0) return [];
    const ordered = [...keys].sort(
      (a, b) => compare(a.host_id, b.host_id) || compare(a.driver, b.driver),
    );
    const rows = await tx.run(
      db
        .insertInto('agent_drivers')
        .values(ordered.map((k) => ({ host_id: k.host_id, driver: k.driver, generation: 1 })))
        .onConflict((oc) =>
          oc
            .columns(['host_id', 'driver'])
            .doUpdateSet((eb) => ({ generation: eb('agent_drivers.generation', '+', 1) })),
        )
        .returning(['host_id', 'driver', 'generation']),
    );
    return rows.map((r) => ({ ...r, generation: Number(r.generation) }));
  },

  async generation(tx: SqlTx, key: HostDriver): Promise<number> {
    const [row] = await tx.run(
      db
        .selectFrom('agent_drivers')
        .select('generation')
        .where('host_id', '=', key.host_id)
        .where('driver', '=', key.driver),
    );
    return Number(row?.generation ?? 0);
  },

  /**
   * Agents' reports, each true when this service gave its host the driver's state. One statement
   * per pass over distinct (host, driver) pairs: an UPDATE … FROM updates a row once, so a second
   * report of the same pair goes in the next pass, after the first.
   */
  async record(tx: SqlTx, reports: readonly DriverStatusReport[]): Promise<boolean[]> {
    const known = reports.map(() => false);
    let rest = reports.map((r, i) => ({ r, i }));
    while (rest.length) {
      const [pass, later, pairs] = [[] as typeof rest, [] as typeof rest, new Set<string>()];
      for (const x of rest) {
        const key = keyOf(x.r);
        if (pairs.has(key)) later.push(x);
        else {
          pairs.add(key);
          pass.push(x);
        }
      }
      rest = later;
      const col = <T>(f: (r: DriverStatusReport) => T) => pass.map(({ r }) => f(r));
      const reported = sql<{
        host_id: string;
        driver: string;
        generation: string;
        ok: boolean;
        error: string | null;
      }>`unnest(${col((r) => r.host_id)}::text[], ${col((r) => r.driver)}::text[],
        ${col((r) => r.generation)}::bigint[], ${col((r) => r.ok)}::boolean[],
        ${col((r) => (r.ok ? null : (r.error ?? 'failed')))}::text[])`.as<'r'>(
        sql`r(host_id, driver, generation, ok, error)`,
      );
      const rows = await tx.run(
        db
          .updateTable('agent_drivers as d')
          .from(reported)
          .set({
            reported_at: sql`now()`,
            // An error is shown until a report of a generation at least as new says it applied.
            applied: sql`CASE WHEN r.ok THEN greatest(d.applied, r.generation) ELSE d.applied END`,
            error: sql`CASE WHEN r.ok THEN NULL WHEN d.applied <= r.generation THEN r.error ELSE d.error END`,
          })
          .whereRef('d.host_id', '=', 'r.host_id')
          .whereRef('d.driver', '=', 'r.driver')
          .returning(['d.host_id', 'd.driver']),
      );
      const recorded = new Set(rows.map(keyOf));
      for (const { r, i } of pass) known[i] = recorded.has(keyOf(r));
    }
    return known;
  },
};

const keyOf = (h: HostDriver) => `${h.host_id}\0${h.driver}`;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
