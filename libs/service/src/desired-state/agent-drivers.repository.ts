import type { DriverStatusReport } from '@qnet/contracts';
import type { SqlTx } from '@qnet/persistence';

export interface HostDriver {
  host_id: string;
  driver: string;
}

export interface Generation extends HostDriver {
  generation: number;
}

/** The agent_drivers table: per host and driver, its desired generation and what was applied. */
export const agentDriversRepository = {
  /**
   * The next generation of each (host, driver), its row locked until the transaction ends. Rows
   * are locked in key order, so transactions touching overlapping hosts cannot deadlock.
   */
  async next(tx: SqlTx, keys: readonly HostDriver[]): Promise<Generation[]> {
    // One statement: rows are inserted, or conflict and are updated, in the SELECT's order.
    const rows = await tx.rows<HostDriver & { generation: string }>(
      `INSERT INTO agent_drivers AS a (host_id, driver, generation)
       SELECT host_id, driver, 1 FROM unnest($1::text[], $2::text[]) AS k(host_id, driver)
       ORDER BY host_id, driver
       ON CONFLICT (host_id, driver) DO UPDATE SET generation = a.generation + 1
       RETURNING a.host_id, a.driver, a.generation`,
      [keys.map((k) => k.host_id), keys.map((k) => k.driver)],
    );
    return rows.map((r) => ({ ...r, generation: Number(r.generation) }));
  },

  async generation(tx: SqlTx, key: HostDriver): Promise<number> {
    const [row] = await tx.rows<{ generation: string }>(
      `SELECT generation FROM agent_drivers WHERE host_id = $1 AND driver = $2`,
      [key.host_id, key.driver],
    );
    return Number(row?.generation ?? 0);
  },

  /** An agent's report; false when this service has never given the host this driver's state. */
  async record(tx: SqlTx, r: DriverStatusReport): Promise<boolean> {
    const rows = await tx.rows(
      `UPDATE agent_drivers SET reported_at = now(),
         applied = CASE WHEN $3 THEN GREATEST(applied, $4) ELSE applied END,
         error = CASE WHEN $3 THEN NULL WHEN $4 >= applied THEN $5 ELSE error END
       WHERE host_id = $1 AND driver = $2 RETURNING host_id`,
      [r.host_id, r.driver, r.ok, r.generation, r.error ?? 'failed'],
    );
    return rows.length > 0;
  },
};
