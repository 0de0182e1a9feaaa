import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  pageOf,
  pageStart,
  DEFAULT_PAGE_SIZE,
  QnetError,
  type ListNicsRequest,
  type NicKind,
  type NicView,
  type ProvisioningStatus,
  type Page,
} from '@qnet/contracts';
import {
  anyOf,
  asText,
  autocommit,
  DATA_SOURCE,
  hostText,
  inCallerScope,
  type SqlTx,
} from '@qnet/persistence';
import { sql } from 'kysely';
import { db } from '../db/index.js';
import { dnsNameOf, type AddressPair } from '../dns.js';

export interface NewNic {
  network_id: string;
  vm_id: string;
  iface_id: string;
  kind: NicKind;
  host_id: string;
  guest_mac: string;
  ip_address: string | null;
  host_dev_name: string;
  netns: string | null;
  hostname: string | null;
  port_security: boolean;
  allowed_address_pairs: AddressPair[];
  /** The generation of its host's `linux` state that first realizes it. */
  generation: number;
}

/** NICs as the API shows them: a NIC is its network's, its status is its host's `linux` driver's. */
function view() {
  return db
    .selectFrom('nics as c')
    .innerJoin('networks as n', 'n.id', 'c.network_id')
    .leftJoin('agent_drivers as d', (j) =>
      j.onRef('d.host_id', '=', 'c.host_id').on('d.driver', '=', 'linux'),
    )
    .select((eb) => [
      'c.id',
      'c.network_id',
      'c.vm_id',
      'c.iface_id',
      'c.kind',
      'c.host_id',
      asText('c.guest_mac').as('guest_mac'),
      hostText<string | null>('c.ip_address').as('ip_address'),
      'c.host_dev_name',
      'c.netns',
      'c.hostname',
      'c.port_security',
      sql<AddressPair[]>`c.allowed_address_pairs`.as('allowed_address_pairs'),
      sql<number>`c.port_security_drops::float8`.as('port_security_drops'),
      'c.created_at',
      eb
        .case()
        .when('c.error', 'is not', null)
        .then(sql.lit<ProvisioningStatus>('ERROR'))
        .when(eb.and([eb('d.applied', '>=', eb.ref('c.generation')), eb('c.generation', '>', '0')]))
        .then(sql.lit<ProvisioningStatus>('ACTIVE'))
        .when('d.error', 'is not', null)
        .then(sql.lit<ProvisioningStatus>('ERROR'))
        .else(sql.lit<ProvisioningStatus>('PENDING_CREATE'))
        .end()
        .as('provisioning_status'),
      // Why it is ERROR: the NIC's own reason, else its host's failed apply (while not applied).
      eb.fn
        .coalesce(
          'c.error',
          eb.case().when('d.applied', '<', eb.ref('c.generation')).then(eb.ref('d.error')).end(),
        )
        .as('status_message'),
    ]);
}

@Injectable()
export class NicRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async get(id: string, tx: SqlTx = autocommit(this.ds)): Promise<NicView> {
    const [row] = await tx.run(view().where('c.id', '=', id).where(inCallerScope('n.project_id')));
    if (!row) throw QnetError.notFound('nic', id);
    return toView(row);
  }

  async idOfDevice(hostId: string, dev: string): Promise<string | undefined> {
    const [row] = await autocommit(this.ds).run(
      db
        .selectFrom('nics')
        .select('id')
        .where('host_id', '=', hostId)
        .where('host_dev_name', '=', dev),
    );
    return row?.id;
  }

  /**
   * What hosts' agents reported they could not realize (host id → device → reason): those NICs
   * ERROR, every other NIC of those hosts not. One statement for any number of hosts.
   */
  async recordRejections(rejected: ReadonlyMap<string, Record<string, string>>): Promise<void> {
    if (!rejected.size) return;
    const reasons = sql<unknown>`${JSON.stringify(Object.fromEntries(rejected))}::jsonb -> host_id`;
    await autocommit(this.ds).run(
      db
        .updateTable('nics')
        .set({ error: sql<string | null>`${reasons} ->> host_dev_name` })
        .where('host_id', '=', anyOf([...rejected.keys()]))
        .where((eb) =>
          eb.or([
            eb('error', 'is not', null),
            eb(sql<boolean>`jsonb_exists(${reasons}, host_dev_name)`, '=', true),
          ]),
        ),
    );
  }

  async list(req: ListNicsRequest): Promise<Page<NicView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    // A NIC is its network's: a scoped caller lists the NICs of its own project's networks.
    const after = pageStart(req.page_token);
    const rows = await autocommit(this.ds).run(
      view()
        .where(inCallerScope('n.project_id'))
        .$call((q) => (after ? q.where('c.id', '>', after) : q))
        .$call((q) => (req.network_id ? q.where('c.network_id', '=', req.network_id) : q))
        .$call((q) => (req.vm_id ? q.where('c.vm_id', '=', req.vm_id) : q))
        .$call((q) => (req.host_id ? q.where('c.host_id', '=', req.host_id) : q))
        .orderBy('c.id')
        .limit(limit + 1),
    );
    return pageOf(rows, limit, toView, (v) => v.id);
  }

  async insert(tx: SqlTx, id: string, n: NewNic): Promise<void> {
    await tx.run(
      db
        .insertInto('nics')
        .values({ id, ...n, allowed_address_pairs: JSON.stringify(n.allowed_address_pairs) }),
    );
  }

  /** What a NIC is called and may send; a new generation of its host's state realizes it. */
  async update(
    tx: SqlTx,
    id: string,
    n: Partial<Pick<NewNic, 'hostname' | 'port_security' | 'allowed_address_pairs'>> & {
      generation: number;
    },
  ): Promise<void> {
    const { allowed_address_pairs: pairs, ...rest } = n;
    await tx.run(
      db
        .updateTable('nics')
        .set({ ...rest, ...(pairs ? { allowed_address_pairs: JSON.stringify(pairs) } : {}) })
        .where('id', '=', id),
    );
  }

  /** The port-security drops a host reported, per port; only rows whose count changed are written. */
  async recordDrops(hostId: string, drops: Record<string, number>): Promise<void> {
    if (!Object.keys(drops).length) return;
    const counts = sql<unknown>`${JSON.stringify(drops)}::jsonb`;
    await autocommit(this.ds).run(
      db
        .updateTable('nics')
        .set({ port_security_drops: sql<string>`(${counts} ->> host_dev_name)::bigint` })
        .where('host_id', '=', hostId)
        .where(sql<boolean>`jsonb_exists(${counts}, host_dev_name)`, '=', true)
        .where(
          sql<boolean>`port_security_drops IS DISTINCT FROM (${counts} ->> host_dev_name)::bigint`,
        ),
    );
  }

  /** Removes the NIC and frees its address; a host that was only there for NICs leaves the network. */
  async delete(
    tx: SqlTx,
    id: string,
  ): Promise<{ network_id: string; host_id: string } | undefined> {
    const [nic] = await tx.run(
      db
        .deleteFrom('nics as c')
        .using('networks as n')
        .where('c.id', '=', id)
        .whereRef('n.id', '=', 'c.network_id')
        .where(inCallerScope('n.project_id'))
        .returning(['c.network_id', 'c.host_id', 'c.ip_address as ip']),
    );
    if (!nic) return undefined;
    if (nic.ip)
      await tx.run(
        db
          .deleteFrom('ip_allocations')
          .where('network_id', '=', nic.network_id)
          .where('address', '=', nic.ip),
      );
    await tx.run(
      db
        .deleteFrom('network_hosts as nh')
        .where('nh.network_id', '=', nic.network_id)
        .where('nh.host_id', '=', nic.host_id)
        .where('nh.explicit', '=', false)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('nics')
                .select(sql.lit(1).as('one'))
                .where('network_id', '=', nic.network_id)
                .where('host_id', '=', nic.host_id),
            ),
          ),
        ),
    );
    return { network_id: nic.network_id, host_id: nic.host_id };
  }
}

function toView(r: Omit<NicView, 'created_at'> & { created_at: Date }): NicView {
  return { ...r, hostname: dnsNameOf(r), created_at: r.created_at.toISOString() };
}
