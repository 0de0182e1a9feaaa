import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables every service's desired-state core and outbox keep in its own schema (runService adds
 * this migration to each service's list; a service that had its own generation table moves its
 * rows here in a later migration of its own).
 */
export class DesiredStateKit1733200000000 implements MigrationInterface {
  name = 'DesiredStateKit1733200000000';

  async up(q: QueryRunner): Promise<void> {
    // Per host and agent driver: the generation of its desired state (the row lock orders every
    // change there), what the agent last applied (-1: never reported) and its last error.
    await q.query(`
      CREATE TABLE agent_drivers (
        host_id     text NOT NULL,
        driver      text NOT NULL,
        generation  bigint NOT NULL DEFAULT 0,
        applied     bigint NOT NULL DEFAULT -1,
        error       text,
        reported_at timestamptz,
        PRIMARY KEY (host_id, driver)
      )`);
    // Each transaction's events (a JSON array of {subject, envelope}), written in it and relayed
    // to JetStream after it commits (message id = the envelope's id, so a repeated relay is stored
    // once). A row is deleted once the stream acknowledged all its events.
    await q.query(`
      CREATE TABLE outbox (
        seq        bigserial PRIMARY KEY,
        id         uuid NOT NULL UNIQUE,
        events     text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE agent_drivers`);
  }
}
