import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Host enrollment. A join token is kept as its SHA-256 digest only, and enrolls one host once
 * before it expires. Each enrollment issues the host NATS credentials for a key pair the host
 * made itself: the registry keeps the public key, to revoke it (the account JWT's revocations).
 */
export class Enrollment1733500000000 implements MigrationInterface {
  name = 'Enrollment1733500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE join_tokens (
        id            uuid PRIMARY KEY,
        token_digest  bytea NOT NULL UNIQUE,
        host_id       text,
        description   text NOT NULL DEFAULT '',
        created_at    timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL,
        used_at       timestamptz,
        used_by_host  text,
        CHECK ((used_at IS NULL) = (used_by_host IS NULL))
      )`);
    await q.query(`
      CREATE TABLE host_credentials (
        public_key     text PRIMARY KEY,
        host_id        text NOT NULL,
        join_token_id  uuid REFERENCES join_tokens (id) ON DELETE SET NULL,
        issued_at      timestamptz NOT NULL DEFAULT now(),
        revoked_at     timestamptz
      )`);
    // One live credential per host: enrolling again revokes the previous one.
    await q.query(
      `CREATE UNIQUE INDEX host_credentials_live ON host_credentials (host_id) WHERE revoked_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE host_credentials`);
    await q.query(`DROP TABLE join_tokens`);
  }
}
