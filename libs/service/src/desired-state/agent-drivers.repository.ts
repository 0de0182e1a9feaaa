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

  /** An agent's report; false when this service has never given the host this driver's state. */
  async record(tx: SqlTx, r: DriverStatusReport): Promise<boolean> {
    const rows = await tx.run(
      db
        .updateTable('agent_drivers')
        .set((eb) =>
          r.ok
            ? {
                reported_at: sql`now()`,
                applied: eb.fn('greatest', ['applied', eb.val(r.generation)]),
                error: null,
              }
            : {
                reported_at: sql`now()`,
                error: eb
                  .case()
                  .when('applied', '<=', String(r.generation))
                  .then(r.error ?? 'failed')
                  .else(eb.ref('error'))
                  .end(),
              },
        )
        .where('host_id', '=', r.host_id)
        .where('driver', '=', r.driver)
        .returning('host_id'),
    );
    return rows.length > 0;
  },
};

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
