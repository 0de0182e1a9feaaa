import type { SqlTx } from '@qnet/persistence';

export interface OutboxMessage {
  id: string;
  subject: string;
  /** The event envelope's JSON, as it goes into the stream. */
  payload: string;
}

/** The outbox table: rows written with a change, deleted once relayed. */
export const outboxRepository = {
  async insert(tx: SqlTx, messages: readonly OutboxMessage[]): Promise<void> {
    if (!messages.length) return;
    await tx.rows(
      `INSERT INTO outbox (id, subject, payload)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`,
      [messages.map((m) => m.id), messages.map((m) => m.subject), messages.map((m) => m.payload)],
    );
  },

  /** Rows at least `minAgeMs` old, oldest first: what no relay has sent (yet). */
  pending(tx: SqlTx, minAgeMs: number, limit: number): Promise<OutboxMessage[]> {
    return tx.rows<OutboxMessage>(
      `SELECT id, subject, payload FROM outbox
       WHERE created_at <= now() - $1 * interval '1 millisecond' ORDER BY seq LIMIT $2`,
      [minAgeMs, limit],
    );
  },

  async delete(tx: SqlTx, ids: readonly string[]): Promise<void> {
    await tx.rows(`DELETE FROM outbox WHERE id = ANY($1::uuid[])`, [ids]);
  },
};
