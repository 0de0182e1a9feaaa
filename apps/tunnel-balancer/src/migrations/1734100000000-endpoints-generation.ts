import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EndpointsGeneration1734100000000 implements MigrationInterface {
  name = 'EndpointsGeneration1734100000000';

  async up(q: QueryRunner): Promise<void> {
    // A counter every statement that writes endpoints bumps (whoever runs it: the service, another
    // instance, an operator's SQL): an evaluator that holds the table from an earlier round uses
    // it only while the counter says nothing else changed, instead of reading 10,000 rows a second.
    await q.query(`
      CREATE TABLE endpoints_generation (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        n         bigint NOT NULL
      )`);
    await q.query(`INSERT INTO endpoints_generation (n) VALUES (0)`);
    await q.query(`
      CREATE FUNCTION bump_endpoints_generation() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
      BEGIN
        UPDATE endpoints_generation SET n = n + 1;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER endpoints_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON endpoints
        FOR EACH STATEMENT EXECUTE FUNCTION bump_endpoints_generation()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER endpoints_changed ON endpoints`);
    await q.query(`DROP FUNCTION bump_endpoints_generation()`);
    await q.query(`DROP TABLE endpoints_generation`);
  }
}
