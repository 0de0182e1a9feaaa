import { prepared, queryBuilder, type Query, type SqlTx } from '@qnet/persistence';
import { sql, type Compilable, type OperationNodeSource } from 'kysely';
import type { DB } from './db.js';

const db = queryBuilder<DB>();

export interface OutboxEvent {
  id: string;
  subject: string;
  /** The event envelope's JSON, as it goes into the stream. */
  payload: string;
}

/** One transaction's events: one row, however many (an evaluation round can have 10,000). */
export interface OutboxBatch {
  id: string;
  events: OutboxEvent[];
}

/** The outbox table: a row per committed transaction with events, deleted once relayed. */
export const outboxRepository = {
  /** The INSERT of a batch (sent with the COMMIT: one round trip less per change). */
  insert(batch: OutboxBatch) {
    // The envelopes are JSON already: spliced in, not serialized a second time.
    const events = batch.events
      .map((e) => `{"subject":${JSON.stringify(e.subject)},"envelope":${e.payload}}`)
      .join(',');
    return prepared(db.insertInto('outbox').values({ id: batch.id, events: `[${events}]` }));
  },

  /**
   * `change` (one data-modifying statement returning at most one row, already in its API view)
   * with its event's outbox row written by the same statement: the event is `envelope` with the
   * changed row as its data. A statement that changed nothing stores no event.
   */
  insertWith<R>(
    change: Compilable<R> & OperationNodeSource,
    batchId: string,
    subject: string,
    envelope: object,
  ): Query<R> {
    const statement = sql<R>`WITH changed AS (${change}), stored AS (
      INSERT INTO outbox (id, events)
      SELECT ${batchId}::uuid, jsonb_build_array(jsonb_build_object(
        'subject', ${subject}::text,
        'envelope', ${JSON.stringify(envelope)}::jsonb || jsonb_build_object('data', to_jsonb(changed))
      ))::text
      FROM changed)
    SELECT * FROM changed`;
    return prepared({ compile: () => statement.compile(db) });
  },

  /** Rows at least `minAgeMs` old, oldest first: what no relay has sent (yet). */
  async pending(tx: SqlTx, minAgeMs: number, limit: number): Promise<OutboxBatch[]> {
    const rows = await tx.run(
      db
        .selectFrom('outbox')
        .select(['id', 'events'])
        .where('created_at', '<=', sql<Date>`now() - ${minAgeMs} * interval '1 millisecond'`)
        .orderBy('seq')
        .limit(limit),
    );
    return rows.map((r) => ({
      id: r.id,
      events: (JSON.parse(r.events) as { subject: string; envelope: { id: string } }[]).map(
        (e) => ({ id: e.envelope.id, subject: e.subject, payload: JSON.stringify(e.envelope) }),
      ),
    }));
  },

  async delete(tx: SqlTx, ids: readonly string[]): Promise<void> {
    await tx.run(db.deleteFrom('outbox').where('id', '=', (eb) => eb.fn.any(eb.val(ids))));
  },
};
