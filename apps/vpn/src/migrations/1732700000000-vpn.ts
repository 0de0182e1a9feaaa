import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureExtension } from '@qnet/persistence';

export class Vpn1732700000000 implements MigrationInterface {
  name = 'Vpn1732700000000';

  async up(q: QueryRunner): Promise<void> {
    await ensureExtension(q, 'btree_gist');
    // One row per gateway host: the generation of its `wireguard` desired state and what it applied.
    await q.query(`
      CREATE TABLE vpn_hosts (
        host_id     text PRIMARY KEY,
        generation  bigint NOT NULL DEFAULT 0,
        applied     bigint NOT NULL DEFAULT 0,
        error       text,
        reported_at timestamptz
      )`);
    // Unique keys and the exclusion constraint are the invariants concurrency could break:
    // one port and non-overlapping client pools per host, one interface name per host set.
    await q.query(`
      CREATE TABLE vpn_services (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name               text NOT NULL,
        network_id         uuid NOT NULL,
        project_id         text NOT NULL,
        router_id          text NOT NULL DEFAULT '',
        external_ip        inet NOT NULL,
        local_subnets      cidr[] NOT NULL,
        listen_port        integer NOT NULL CHECK (listen_port BETWEEN 1 AND 65535),
        client_pool        cidr NOT NULL,
        gateway_address    inet NOT NULL,
        interface_name     text NOT NULL UNIQUE CHECK (interface_name ~ '^qwg[0-9a-f]{1,12}$'),
        host_id            text NOT NULL REFERENCES vpn_hosts (host_id),
        private_key_sealed text NOT NULL,
        public_key         text NOT NULL,
        generation         bigint NOT NULL,
        created_generation bigint NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT vpn_services_name UNIQUE (project_id, name),
        CONSTRAINT vpn_services_port UNIQUE (host_id, listen_port),
        CONSTRAINT vpn_services_pool_overlap EXCLUDE USING gist (host_id WITH =, client_pool inet_ops WITH &&)
      )`);
    await q.query(`
      CREATE TABLE vpn_connections (
        id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        vpn_service_id       uuid NOT NULL REFERENCES vpn_services (id) ON DELETE CASCADE,
        name                 text NOT NULL,
        peer_address         inet NOT NULL,
        peer_public_key      text NOT NULL,
        preshared_key_sealed text,
        generation           bigint NOT NULL,
        created_generation   bigint NOT NULL,
        created_at           timestamptz NOT NULL DEFAULT now(),
        latest_handshake     timestamptz,
        rx_bytes             bigint NOT NULL DEFAULT 0,
        tx_bytes             bigint NOT NULL DEFAULT 0,
        endpoint             text NOT NULL DEFAULT '',
        CONSTRAINT vpn_connections_name UNIQUE (vpn_service_id, name),
        CONSTRAINT vpn_connections_address UNIQUE (vpn_service_id, peer_address),
        CONSTRAINT vpn_connections_key UNIQUE (vpn_service_id, peer_public_key)
      )`);
    // The audit trail outlives what it describes: no foreign keys.
    await q.query(`
      CREATE TABLE vpn_audit_events (
        id             bigserial PRIMARY KEY,
        vpn_service_id uuid NOT NULL,
        connection_id  uuid,
        action         text NOT NULL,
        actor          text NOT NULL,
        detail         text NOT NULL DEFAULT '',
        request_id     text NOT NULL DEFAULT '',
        occurred_at    timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX vpn_audit_by_service ON vpn_audit_events (vpn_service_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE vpn_audit_events`);
    await q.query(`DROP TABLE vpn_connections`);
    await q.query(`DROP TABLE vpn_services`);
    await q.query(`DROP TABLE vpn_hosts`);
  }
}
