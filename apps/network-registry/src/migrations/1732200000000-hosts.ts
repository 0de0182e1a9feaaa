import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Hosts1732200000000 implements MigrationInterface {
  name = 'Hosts1732200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE hosts (
        id            text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
        hostname      text NOT NULL,
        underlay_ip   inet NOT NULL,
        capabilities  text[] NOT NULL DEFAULT '{}',
        drivers       text[] NOT NULL DEFAULT '{}',
        mode          text NOT NULL CHECK (mode IN ('host', 'netns', 'dry-run')),
        agent_version text NOT NULL,
        description   text NOT NULL DEFAULT '',
        labels        jsonb NOT NULL DEFAULT '{}',
        applied       jsonb NOT NULL DEFAULT '{}',
        health        text NOT NULL DEFAULT 'healthy' CHECK (health IN ('healthy', 'degraded', 'offline')),
        registered_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX hosts_last_seen_idx ON hosts (last_seen_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE hosts`);
  }
}
