import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Bgp1732800000000 implements MigrationInterface {
  name = 'Bgp1732800000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per node with a speaker (or that had one): the generation of its `frr` desired state,
    // what its agent applied, and whether FRR answered in its last report.
    await q.query(`
      CREATE TABLE bgp_hosts (
        host_id      text PRIMARY KEY,
        generation   bigint NOT NULL DEFAULT 0,
        applied      bigint NOT NULL DEFAULT 0,
        error        text,
        frr_running  boolean,
        reported_at  timestamptz
      )`);
    await q.query(`
      CREATE TABLE bgp_speakers (
        id           uuid PRIMARY KEY,
        name         text NOT NULL,
        project_id   text NOT NULL,
        description  text NOT NULL DEFAULT '',
        labels       jsonb NOT NULL DEFAULT '{}',
        node_id      text NOT NULL REFERENCES bgp_hosts (host_id),
        local_asn    bigint NOT NULL CHECK (local_asn BETWEEN 1 AND 4294967295),
        router_id    inet NOT NULL CHECK (family(router_id) = 4),
        generation   bigint NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bgp_speakers_node UNIQUE (node_id),
        CONSTRAINT bgp_speakers_name UNIQUE (project_id, name)
      )`);
    await q.query(`
      CREATE TABLE bgp_peers (
        id                 uuid PRIMARY KEY,
        speaker_id         uuid NOT NULL REFERENCES bgp_speakers (id) ON DELETE CASCADE,
        name               text NOT NULL,
        description        text NOT NULL DEFAULT '',
        peer_address       inet NOT NULL,
        peer_asn           bigint NOT NULL CHECK (peer_asn BETWEEN 1 AND 4294967295),
        password_sealed    text,
        hold_time          integer CHECK (hold_time = 0 OR hold_time BETWEEN 3 AND 65535),
        keepalive_interval integer CHECK (keepalive_interval BETWEEN 0 AND 65535),
        bfd                boolean NOT NULL DEFAULT false,
        max_prefixes       bigint CHECK (max_prefixes BETWEEN 1 AND 4294967295),
        state              text NOT NULL DEFAULT 'IDLE',
        prefixes_received  integer NOT NULL DEFAULT 0,
        prefixes_sent      integer NOT NULL DEFAULT 0,
        established_at     timestamptz,
        last_error         text NOT NULL DEFAULT '',
        created_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bgp_peers_address UNIQUE (speaker_id, peer_address),
        CONSTRAINT bgp_peers_name UNIQUE (speaker_id, name),
        CHECK ((hold_time IS NULL) = (keepalive_interval IS NULL)),
        CHECK (hold_time = 0 OR keepalive_interval * 3 <= hold_time)
      )`);
    await q.query(`
      CREATE TABLE bgp_advertisements (
        id           uuid PRIMARY KEY,
        speaker_id   uuid NOT NULL REFERENCES bgp_speakers (id) ON DELETE CASCADE,
        prefix       cidr NOT NULL,
        next_hop     inet,
        communities  text[] NOT NULL DEFAULT '{}',
        local_pref   bigint CHECK (local_pref BETWEEN 0 AND 4294967295),
        active       boolean NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bgp_advertisements_prefix UNIQUE (speaker_id, prefix)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE bgp_advertisements, bgp_peers, bgp_speakers, bgp_hosts`);
  }
}
