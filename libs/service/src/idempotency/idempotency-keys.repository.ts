import { autocommit, prepared, queryBuilder, type JoinedStatement } from '@qnet/persistence';
import { sql } from 'kysely';
import type { DataSource } from 'typeorm';
import type { DB } from '../desired-state/db.js';

const db = queryBuilder<DB>();

/** One request's identity under its idempotency key. */
export interface KeyedRequest {
  /** '' for an unscoped caller. */
  project: string;
  subject: string;
  key: string;
  /** Of the subject and payload: the same key with a different request is refused. */
  requestHash: string;
}

export interface StoredAnswer {
  requestHash: string;
  /** The reply body ({data} or {error}) as JSON; null while the first request is answering. */
  answer: string | null;
  ageMs: number;
}

/** The idempotency_keys table. */
export class IdempotencyKeysRepository {
  constructor(private readonly ds: DataSource) {}

  /** The row to write in the request's first transaction. */
  rowStatement(r: KeyedRequest): JoinedStatement {
    return {
      committed: false,
      statement: () =>
        prepared(
          db.insertInto('idempotency_keys').values({
            project: r.project,
            subject: r.subject,
            key: r.key,
            request_hash: r.requestHash,
          }),
        ),
    };
  }

  async find(r: KeyedRequest): Promise<StoredAnswer | undefined> {
    const [row] = await autocommit(this.ds).run(
      db
        .selectFrom('idempotency_keys')
        .select([
          'request_hash',
          'answer',
          sql<number>`(extract(epoch from now() - created_at) * 1000)::int`.as('age_ms'),
        ])
        .where('project', '=', r.project)
        .where('subject', '=', r.subject)
        .where('key', '=', r.key),
    );
    return row && { requestHash: row.request_hash, answer: row.answer, ageMs: row.age_ms };
  }

  async recordAnswer(r: KeyedRequest, answer: string): Promise<void> {
    await autocommit(this.ds).run(
      db
        .updateTable('idempotency_keys')
        .set({ answer })
        .where('project', '=', r.project)
        .where('subject', '=', r.subject)
        .where('key', '=', r.key),
    );
  }

  async deleteOlderThan(hours: number): Promise<void> {
    await autocommit(this.ds).run(
      db
        .deleteFrom('idempotency_keys')
        .where('created_at', '<', sql<Date>`now() - ${hours} * interval '1 hour'`),
    );
  }
}
