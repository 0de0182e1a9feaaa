import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The answers given to requests that carried an Idempotency-Key, so that a repeat gets the same
 * answer. A row is written in the same transaction as the request's work (so it exists if and only
 * if the work was committed); its answer is filled in once the handler returns.
 */
export class IdempotencyKeys1733300000000 implements MigrationInterface {
  name = 'IdempotencyKeys1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        project      text NOT NULL,
        subject      text NOT NULL,
        key          text NOT NULL,
        request_hash text NOT NULL,
        answer       text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project, subject, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
