import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Lb1732900000000 implements MigrationInterface {
  name = 'Lb1732900000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per (host, driver) that realizes load balancers: the generation of that driver's
    // desired state, what the host's agent last applied, and its last error.
    await q.query(`
      CREATE TABLE lb_hosts (
        host_id      text NOT NULL,
        driver       text NOT NULL CHECK (driver IN ('lb_nft', 'lb_ovn')),
        generation   bigint NOT NULL DEFAULT 0,
        applied      bigint NOT NULL DEFAULT 0,
        error        text,
        reported_at  timestamptz,
        PRIMARY KEY (host_id, driver)
      )`);
    await q.query(`
      CREATE TABLE load_balancers (
        id             uuid PRIMARY KEY,
        name           text NOT NULL,
        project_id     text NOT NULL,
        description    text NOT NULL DEFAULT '',
        labels         jsonb NOT NULL DEFAULT '{}',
        network_id     uuid NOT NULL,
        network_cidr   cidr NOT NULL,
        logical_switch text NOT NULL,
        vip            inet NOT NULL,
        algorithm      text NOT NULL
          CHECK (algorithm IN ('ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP', 'WEIGHTED')),
        protocol       text NOT NULL CHECK (protocol IN ('TCP', 'UDP')),
        provider       text NOT NULL CHECK (provider IN ('nftables', 'ovn')),
        host_id        text NOT NULL,
        driver         text NOT NULL,
        generation     bigint NOT NULL,
        bytes_in       bigint NOT NULL DEFAULT 0,
        bytes_out      bigint NOT NULL DEFAULT 0,
        observed_at    timestamptz,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (host_id, driver) REFERENCES lb_hosts (host_id, driver),
        CHECK (vip << network_cidr),
        CONSTRAINT load_balancers_name UNIQUE (project_id, name),
        CONSTRAINT load_balancers_vip UNIQUE (network_id, vip)
      )`);
    await q.query(`CREATE INDEX load_balancers_host_idx ON load_balancers (host_id)`);
    await q.query(`
      CREATE TABLE lb_listeners (
        id               uuid PRIMARY KEY,
        load_balancer_id uuid NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE,
        name             text NOT NULL,
        port             integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
        protocol         text NOT NULL CHECK (protocol IN ('TCP', 'UDP')),
        created_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT lb_listeners_port UNIQUE (load_balancer_id, port, protocol),
        CONSTRAINT lb_listeners_name UNIQUE (load_balancer_id, name)
      )`);
    await q.query(`
      CREATE TABLE lb_members (
        id                 uuid PRIMARY KEY,
        load_balancer_id   uuid NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE,
        address            inet NOT NULL,
        port               integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
        weight             integer NOT NULL CHECK (weight BETWEEN 1 AND 256),
        admin_state_up     boolean NOT NULL DEFAULT true,
        logical_port       text NOT NULL DEFAULT '',
        health             text NOT NULL DEFAULT 'UNKNOWN'
          CHECK (health IN ('UNKNOWN', 'ONLINE', 'OFFLINE')),
        active_connections bigint NOT NULL DEFAULT 0,
        total_connections  bigint NOT NULL DEFAULT 0,
        created_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT lb_members_address UNIQUE (load_balancer_id, address, port)
      )`);
    await q.query(`
      CREATE TABLE lb_health_checks (
        load_balancer_id    uuid PRIMARY KEY REFERENCES load_balancers (id) ON DELETE CASCADE,
        protocol            text NOT NULL CHECK (protocol IN ('TCP', 'UDP')),
        port                integer CHECK (port BETWEEN 1 AND 65535),
        interval_sec        integer NOT NULL CHECK (interval_sec BETWEEN 1 AND 3600),
        timeout_sec         integer NOT NULL CHECK (timeout_sec BETWEEN 1 AND 3600),
        unhealthy_threshold integer NOT NULL CHECK (unhealthy_threshold BETWEEN 1 AND 10),
        healthy_threshold   integer NOT NULL CHECK (healthy_threshold BETWEEN 1 AND 10)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE lb_health_checks, lb_members, lb_listeners, load_balancers, lb_hosts`,
    );
  }
}
