import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureExtension } from '@qnet/persistence';

/**
 * Networks, their hosts, NICs and IP allocations. Every invariant concurrency could break is a
 * constraint here: one network per (host, bridge, vlan), no overlapping CIDRs in a project, unique
 * VNIs, MACs and host device names, one owner per address.
 */
export class Networks1732300000000 implements MigrationInterface {
  name = 'Networks1732300000000';

  async up(q: QueryRunner): Promise<void> {
    // Default operator classes are found by type, whatever schema the extension lives in.
    await ensureExtension(q, 'btree_gist');
    await q.query(`
      CREATE TABLE networks (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        description     text NOT NULL DEFAULT '',
        type            text NOT NULL CHECK (type IN ('bridge', 'vlan', 'overlay')),
        vlan_id         integer CHECK (vlan_id BETWEEN 1 AND 4094),
        vni             integer CONSTRAINT networks_vni_key UNIQUE CHECK (vni BETWEEN 1 AND 16777215),
        bridge_name     text NOT NULL CHECK (bridge_name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$'),
        host_id         text,
        cidr            cidr,
        gateway         inet,
        reserved_ranges text[] NOT NULL DEFAULT '{}',
        mtu             integer NOT NULL CHECK (mtu BETWEEN 68 AND 65535),
        project_id      text NOT NULL,
        labels          jsonb NOT NULL DEFAULT '{}',
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CHECK ((type = 'overlay') = (vni IS NOT NULL)),
        CHECK (type <> 'overlay' OR host_id IS NULL),
        CHECK (type <> 'vlan' OR vlan_id IS NOT NULL),
        CHECK (gateway IS NULL OR (cidr IS NOT NULL AND gateway << cidr)),
        CONSTRAINT networks_cidr_overlap EXCLUDE USING gist (project_id WITH =, cidr inet_ops WITH &&)
          WHERE (cidr IS NOT NULL)
      )`);
    // Auto-registration upserts on exactly this key.
    await q.query(`CREATE UNIQUE INDEX networks_placement_key
      ON networks ((coalesce(host_id, '')), bridge_name, (coalesce(vlan_id, 0)))`);
    await q.query(`CREATE INDEX networks_project_idx ON networks (project_id, id)`);

    // Hosts a network is realized on. explicit: named by the operator (or the network's host),
    // not only there because of its NICs. No FK to hosts: a host may be named before it registers.
    await q.query(`
      CREATE TABLE network_hosts (
        network_id uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
        host_id    text NOT NULL,
        explicit   boolean NOT NULL,
        PRIMARY KEY (network_id, host_id)
      )`);
    await q.query(`CREATE INDEX network_hosts_host_idx ON network_hosts (host_id)`);

    await q.query(`
      CREATE TABLE ip_allocations (
        network_id uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
        address    inet NOT NULL,
        owner_kind text NOT NULL CHECK (owner_kind IN ('gateway', 'nic', 'reservation')),
        owner_id   text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (network_id, address)
      )`);

    await q.query(`
      CREATE TABLE nics (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        network_id    uuid NOT NULL REFERENCES networks (id) ON DELETE RESTRICT,
        vm_id         text NOT NULL,
        iface_id      text NOT NULL,
        kind          text NOT NULL CHECK (kind IN ('tap', 'veth')),
        host_id       text NOT NULL REFERENCES hosts (id),
        guest_mac     macaddr NOT NULL CONSTRAINT nics_guest_mac_key UNIQUE,
        ip_address    inet,
        host_dev_name text NOT NULL CHECK (host_dev_name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$'),
        netns         text,
        generation    bigint NOT NULL DEFAULT 0,
        created_at    timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'veth') = (netns IS NOT NULL)),
        CONSTRAINT nics_host_dev_name_key UNIQUE (host_id, host_dev_name),
        CONSTRAINT nics_vm_iface_key UNIQUE (vm_id, iface_id),
        CONSTRAINT nics_ip_address_key UNIQUE (network_id, ip_address),
        FOREIGN KEY (network_id, ip_address) REFERENCES ip_allocations (network_id, address)
      )`);
    await q.query(`CREATE INDEX nics_host_idx ON nics (host_id)`);

    // Desired-state generation of the linux driver per host, and what its agent last reported.
    await q.query(`ALTER TABLE hosts
      ADD COLUMN linux_generation bigint NOT NULL DEFAULT 0,
      ADD COLUMN linux_applied bigint NOT NULL DEFAULT -1,
      ADD COLUMN linux_error text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE hosts DROP COLUMN linux_generation, DROP COLUMN linux_applied, DROP COLUMN linux_error`,
    );
    await q.query(`DROP TABLE nics, ip_allocations, network_hosts, networks`);
  }
}
