import { Injectable } from '@nestjs/common';
import type { TunnelObserved } from '@qnet/contracts';
import { anyOf, hostText, type SqlTx } from '@qnet/persistence';
import { sql } from 'kysely';
import { db } from '../db/index.js';
import type { DeviceRow } from '../devices/device.repository.js';

/** One endpoint's routers as the balancer last decided them. */
export interface DecisionRow {
  endpoint_id: string;
  primary_router_id: string | null;
  backup_router_id: string | null;
  decided_at: number;
}

/** An endpoint as a router's peer. */
export interface PeerRow {
  router_id: string;
  endpoint_id: string;
  public_key: string;
  psk_sealed: string;
  tun_ipv4: string;
  tun_ipv6: string;
}

export interface ReportRow {
  device_id: string;
  observed: TunnelObserved;
  router_ids: string[];
  failed_router_ids: string[];
  reported_at: Date;
}

/** The decision mirror, what the tunnel states are rendered from, and the agents' reports. */
@Injectable()
export class TunnelRepository {
  /** The endpoints' decisions; `lock` holds them until the transaction ends (in id order). */
  decisions(
    tx: SqlTx,
    endpointIds: readonly string[],
    { lock }: { lock: boolean },
  ): Promise<DecisionRow[]> {
    const q = db
      .selectFrom('tunnel_decisions')
      .selectAll()
      .where('endpoint_id', '=', anyOf(endpointIds))
      .orderBy('endpoint_id');
    return tx.run(lock ? q.forUpdate() : q);
  }

  allDecisions(tx: SqlTx): Promise<DecisionRow[]> {
    return tx.run(db.selectFrom('tunnel_decisions').selectAll().orderBy('endpoint_id'));
  }

  /** Stores each decision unless a newer one is stored already; returns those stored. */
  async saveDecisions(tx: SqlTx, rows: DecisionRow[]): Promise<DecisionRow[]> {
    if (!rows.length) return [];
    return tx.run(
      db
        .insertInto('tunnel_decisions')
        .values(rows)
        .onConflict((oc) =>
          oc
            .column('endpoint_id')
            .doUpdateSet((eb) => ({
              primary_router_id: eb.ref('excluded.primary_router_id'),
              backup_router_id: eb.ref('excluded.backup_router_id'),
              decided_at: eb.ref('excluded.decided_at'),
            }))
            .where('tunnel_decisions.decided_at', '<=', (eb) => eb.ref('excluded.decided_at')),
        )
        .returningAll(),
    );
  }

  async forgetDecision(tx: SqlTx, endpointId: string): Promise<void> {
    await tx.run(db.deleteFrom('tunnel_decisions').where('endpoint_id', '=', endpointId));
  }

  /** Endpoints whose decision names one of these routers. */
  async endpointsOf(tx: SqlTx, routerIds: readonly string[]): Promise<string[]> {
    const rows = await tx.run(
      db
        .selectFrom('tunnel_decisions')
        .select('endpoint_id')
        .where((eb) =>
          eb.or([
            eb('primary_router_id', '=', anyOf(routerIds)),
            eb('backup_router_id', '=', anyOf(routerIds)),
          ]),
        ),
    );
    return rows.map((r) => r.endpoint_id);
  }

  /**
   * Devices with a tunnel key among `ids` — the hosts a change touches — their rows share-locked
   * in id order, so a concurrent change to one of them (a new key) waits for this one or is
   * seen by it.
   */
  async keyedDevices(tx: SqlTx, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await tx.run(
      db
        .selectFrom('devices')
        .select('device_id')
        .where('device_id', '=', anyOf([...new Set(ids)]))
        .where('public_key', 'is not', null)
        .orderBy('device_id')
        .forShare(),
    );
    return rows.map((r) => r.device_id);
  }

  devices(
    tx: SqlTx,
    ids: readonly string[],
  ): Promise<
    Pick<
      DeviceRow,
      | 'device_id'
      | 'type'
      | 'addresses'
      | 'tun_ipv4'
      | 'tun_ipv6'
      | 'config'
      | 'public_key'
      | 'psk_sealed'
    >[]
  > {
    return tx.run(
      db
        .selectFrom('devices')
        .select([
          'device_id',
          'type',
          'addresses',
          hostText('tun_ipv4').as('tun_ipv4'),
          hostText('tun_ipv6').as('tun_ipv6'),
          'config',
          'public_key',
          'psk_sealed',
        ])
        .where('device_id', '=', anyOf(ids)),
    );
  }

  /**
   * Every keyed endpoint a router has a tunnel for, once per router: those its decision names,
   * and those that still reported a tunnel to it within `reportedWithinMs` (an endpoint moving
   * make-before-break drains its old tunnel: the router keeps its peer until it has moved).
   */
  peersOf(tx: SqlTx, routerIds: readonly string[], reportedWithinMs: number): Promise<PeerRow[]> {
    const roles = sql<{
      router_id: string;
    }>`(VALUES (d.primary_router_id), (d.backup_router_id))`.as<'r'>(sql`r(router_id)`);
    const reported = sql<{ router_id: string }>`unnest(t.router_ids)`.as<'r'>(sql`r(router_id)`);
    const endpoint = [
      'e.device_id as endpoint_id',
      sql<string>`e.public_key`.as('public_key'),
      'e.psk_sealed',
      hostText('e.tun_ipv4').as('tun_ipv4'),
      hostText('e.tun_ipv6').as('tun_ipv6'),
    ] as const;
    return tx.run(
      db
        .selectFrom('tunnel_decisions as d')
        .innerJoin('devices as e', 'e.device_id', 'd.endpoint_id')
        .innerJoinLateral(roles, (j) => j.onTrue())
        .select(['r.router_id', ...endpoint])
        .where('r.router_id', '=', anyOf(routerIds))
        .where('e.public_key', 'is not', null)
        .where('e.type', '=', 'endpoint')
        .union(
          db
            .selectFrom('tunnel_reports as t')
            .innerJoin('devices as e', 'e.device_id', 't.device_id')
            .innerJoinLateral(reported, (j) => j.onTrue())
            .select(['r.router_id', ...endpoint])
            .where('r.router_id', '=', anyOf(routerIds))
            .where(
              't.reported_at',
              '>',
              sql<Date>`now() - make_interval(secs => ${reportedWithinMs}::float8 / 1000)`,
            )
            .where('e.public_key', 'is not', null)
            .where('e.type', '=', 'endpoint'),
        )
        .orderBy('endpoint_id'),
    );
  }

  /**
   * Records a report (the routers it has tunnels to, those it failed away from); returns what
   * the previous one said, or undefined when the device is not known (deleted meanwhile).
   */
  async saveReport(
    tx: SqlTx,
    deviceId: string,
    observed: TunnelObserved,
    routers: { router_ids: string[]; failed_router_ids: string[] },
  ): Promise<{ router_ids: string[]; failed_router_ids: string[] } | undefined> {
    const [before] = await tx.run(
      db
        .selectFrom('tunnel_reports')
        .select(['router_ids', 'failed_router_ids'])
        .where('device_id', '=', deviceId)
        .forUpdate(),
    );
    const saved = await tx.run(
      db
        .insertInto('tunnel_reports')
        .columns(['device_id', 'observed', 'router_ids', 'failed_router_ids'])
        // A report from the agent of a device deleted meanwhile is dropped.
        .expression(
          db
            .selectFrom('devices')
            .select([
              'device_id',
              sql<TunnelObserved>`${JSON.stringify(observed)}::jsonb`.as('observed'),
              sql<string[]>`${routers.router_ids}::text[]`.as('router_ids'),
              sql<string[]>`${routers.failed_router_ids}::text[]`.as('failed_router_ids'),
            ])
            .where('device_id', '=', deviceId),
        )
        .onConflict((oc) =>
          oc.column('device_id').doUpdateSet((eb) => ({
            observed: eb.ref('excluded.observed'),
            router_ids: eb.ref('excluded.router_ids'),
            failed_router_ids: eb.ref('excluded.failed_router_ids'),
            reported_at: sql`now()`,
          })),
        )
        .returning('device_id'),
    );
    return saved.length ? (before ?? { router_ids: [], failed_router_ids: [] }) : undefined;
  }

  reports(tx: SqlTx): Promise<ReportRow[]> {
    return tx.run(db.selectFrom('tunnel_reports').selectAll());
  }
}
